/* Walking an image folder split: class folders, their files, loops and unsupported files. */
#include "data/image_list.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/image_decode.h"

#define MAX_EXTS 8 /* distinct unsupported extensions named; the rest are "other" */

typedef struct walk {
  clt_image_report *report;
  clt_image_list *list;
  dev_t *dev;
  ino_t *ino;
  size_t seen, seen_cap; /* folders walked: a (device, inode) pair is walked once */
  char ext[MAX_EXTS][16];
  long ext_count[MAX_EXTS + 1];
  int exts;
} walk;

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of dir's entries (without . and ..). */
static clt_status read_names(const char *dir, char ***names, size_t *count) {
  *names = NULL;
  *count = 0;
  DIR *d = opendir(dir);
  if (!d) return clt_fail(CLT_ERR_IO, "%s: cannot list the folder: %s", dir, strerror(errno));
  size_t cap = 0;
  struct dirent *e;
  clt_status s = CLT_OK;
  while (s == CLT_OK && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (*count == cap) {
      cap = cap ? 2 * cap : 64;
      char **more = realloc(*names, cap * sizeof *more);
      if (!more) {
        s = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory listing %s", dir);
        break;
      }
      *names = more;
    }
    (*names)[*count] = strdup(e->d_name);
    if (!(*names)[*count])
      s = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory listing %s", dir);
    else
      (*count)++;
  }
  closedir(d);
  if (s == CLT_OK && *count) qsort(*names, *count, sizeof **names, cmp_str);
  return s;
}

static void free_names(char **names, size_t count) {
  for (size_t i = 0; i < count; i++) free(names[i]);
  free(names);
}

static char *join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  while (a > 1 && dir[a - 1] == '/') a--;
  char *p = malloc(a + b + 2);
  if (p) {
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
  }
  return p;
}

/* 1 when the folder of st was walked before (then it is not walked again), else records it. */
static int seen_before(walk *w, const struct stat *st, clt_status *s) {
  for (size_t i = 0; i < w->seen; i++)
    if (w->dev[i] == st->st_dev && w->ino[i] == st->st_ino) return 1;
  if (w->seen == w->seen_cap) {
    size_t cap = w->seen_cap ? 2 * w->seen_cap : 64;
    dev_t *d = realloc(w->dev, cap * sizeof *d);
    if (d) w->dev = d;
    ino_t *i = d ? realloc(w->ino, cap * sizeof *i) : NULL;
    if (!i) {
      *s = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory walking the image folder");
      return 1;
    }
    w->ino = i;
    w->seen_cap = cap;
  }
  w->dev[w->seen] = st->st_dev;
  w->ino[w->seen] = st->st_ino;
  w->seen++;
  return 0;
}

static void count_unsupported(walk *w, const char *name, const char *path) {
  const char *dot = strrchr(name, '.');
  const char *ext = dot && dot != name ? dot : "(none)";
  (void)path;
  w->report->unsupported++;
  for (int i = 0; i < w->exts; i++)
    if (strcasecmp(w->ext[i], ext) == 0) {
      w->ext_count[i]++;
      return;
    }
  if (w->exts < MAX_EXTS && strlen(ext) < sizeof w->ext[0]) {
    snprintf(w->ext[w->exts], sizeof w->ext[0], "%s", ext);
    w->ext_count[w->exts++] = 1;
  } else {
    w->ext_count[MAX_EXTS]++;
  }
}

static clt_status add_file(walk *w, char *path, int label, const struct stat *st) {
  clt_image_list *l = w->list;
  if (l->n == l->cap) {
    long cap = l->cap ? 2 * l->cap : 1024;
    clt_image_file *more = realloc(l->files, (size_t)cap * sizeof *more);
    if (!more) {
      free(path);
      return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory listing the images");
    }
    l->files = more;
    l->cap = cap;
  }
  clt_image_file *f = &l->files[l->n++];
  f->path = path;
  f->label = label;
  f->size = (long long)st->st_size;
  f->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
  return CLT_OK;
}

/* Walks dir (a class folder or one below it); files in name order, folders in place. */
static clt_status walk_dir(walk *w, const char *dir, int label, int depth) {
  if (depth > 64)
    return clt_fail(CLT_ERR_BAD_DATA, "%s: folders nested more than 64 deep; flatten them", dir);
  char **names;
  size_t count;
  CLT_TRY(read_names(dir, &names, &count));
  clt_status s = CLT_OK;
  for (size_t i = 0; i < count && s == CLT_OK; i++) {
    if (names[i][0] == '.') continue; /* hidden files and folders (.DS_Store, .git) */
    char *path = join(dir, names[i]);
    struct stat st;
    if (!path) {
      s = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory walking %s", dir);
    } else if (stat(path, &st) != 0) {
      struct stat lst;
      if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        /* a dangling link, or one that loops on itself (ELOOP): counted, not followed */
        if (w->report->loops++ == 0)
          snprintf(w->report->first_loop, sizeof w->report->first_loop,
                   "%s: a symbolic link that leads nowhere (%s)", path, strerror(errno));
      } else {
        s = clt_fail(CLT_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
      }
      free(path);
    } else if (S_ISDIR(st.st_mode)) {
      if (seen_before(w, &st, &s)) {
        if (s == CLT_OK && w->report->loops++ == 0)
          snprintf(w->report->first_loop, sizeof w->report->first_loop,
                   "%s: a folder already walked (a symbolic link loop or a second link to it), "
                   "not read twice",
                   path);
      } else {
        s = walk_dir(w, path, label, depth + 1);
      }
      free(path);
    } else if (S_ISREG(st.st_mode) && clt_image_format_of_name(names[i]) != CLT_IMAGE_UNKNOWN) {
      s = add_file(w, path, label, &st);
    } else {
      count_unsupported(w, names[i], path);
      free(path);
    }
  }
  free_names(names, count);
  return s;
}

static void write_ext_list(walk *w) {
  char *out = w->report->unsupported_list;
  size_t size = sizeof w->report->unsupported_list, n = strlen(out);
  for (int i = 0; i <= w->exts; i++) {
    long c = i < w->exts ? w->ext_count[i] : w->ext_count[MAX_EXTS];
    if (c == 0 || n >= size) continue;
    n += (size_t)snprintf(out + n, size - n, "%s%s (%ld)", n ? ", " : "",
                          i < w->exts ? w->ext[i] : "other", c);
  }
}

clt_status clt_image_list_read(const char *root, clt_image_report *report, clt_image_list *out) {
  memset(out, 0, sizeof *out);
  char **names;
  size_t count;
  CLT_TRY(read_names(root, &names, &count));
  walk w;
  memset(&w, 0, sizeof w);
  w.report = report;
  w.list = out;
  clt_status s = CLT_OK;
  out->class_names = calloc(count ? count : 1, sizeof *out->class_names);
  if (!out->class_names) s = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  struct stat root_st;
  if (s == CLT_OK && stat(root, &root_st) == 0) seen_before(&w, &root_st, &s);
  /* the class folders first, all marked walked: a link from one class into another is then
   * not walked twice */
  char **class_paths = calloc(count ? count : 1, sizeof *class_paths);
  if (s == CLT_OK && !class_paths) s = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
  for (size_t i = 0; i < count && s == CLT_OK; i++) {
    if (names[i][0] == '.') continue;
    char *path = join(root, names[i]);
    struct stat st;
    if (!path) {
      s = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory");
    } else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
      if (!seen_before(&w, &st, &s) && s == CLT_OK) {
        class_paths[out->classes] = path;
        out->class_names[out->classes++] = names[i];
        names[i] = NULL;
        path = NULL;
      }
    } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
               clt_image_format_of_name(names[i]) != CLT_IMAGE_UNKNOWN) {
      s = clt_fail(CLT_ERR_BAD_DATA,
                   "%s: an image outside any class folder; move it into the folder of its "
                   "class (%s/CLASS/%s)",
                   path, root, names[i]);
    } /* other files beside the class folders (README, labels.txt) are not data */
    free(path);
  }
  for (int k = 0; k < out->classes && s == CLT_OK; k++) {
    long before = out->n;
    s = walk_dir(&w, class_paths[k], k, 1);
    if (s == CLT_OK && out->n == before)
      s = clt_fail(CLT_ERR_BAD_DATA,
                   "%s: class folder holds no PNG or JPEG image (.png, .jpg, .jpeg); add "
                   "images or remove the folder",
                   class_paths[k]);
  }
  for (size_t k = 0; class_paths && k < count; k++) free(class_paths[k]);
  free(class_paths);
  free_names(names, count);
  write_ext_list(&w);
  free(w.dev);
  free(w.ino);
  if (s == CLT_OK && out->classes == 0)
    s = clt_fail(CLT_ERR_BAD_DATA,
                 "%s: no class folders; an image folder holds one sub-folder of images per class "
                 "(%s/CLASS_NAME/IMAGE.png), or train/ and test/ folders that each hold them",
                 root, root);
  if (s == CLT_OK && out->classes < 2)
    s = clt_fail(CLT_ERR_BAD_DATA,
                 "%s: only one class folder (%s); a classifier needs at least 2 classes: add a "
                 "folder of images for each other class",
                 root, out->class_names[0]);
  if (s != CLT_OK) clt_image_list_free(out);
  return s;
}

void clt_image_list_free(clt_image_list *l) {
  if (!l) return;
  for (int i = 0; i < l->classes; i++) free(l->class_names[i]);
  free(l->class_names);
  for (long i = 0; i < l->n; i++) free(l->files[i].path);
  free(l->files);
  memset(l, 0, sizeof *l);
}
