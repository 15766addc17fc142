/* The files of one image-folder split (data/image_folder.h): class folders sorted, their
 * image files walked (sub-folders and symlinks followed once), the rest counted. */
#ifndef CLT_DATA_IMAGE_LIST_H
#define CLT_DATA_IMAGE_LIST_H

#include <stdint.h>

#include "data/image_folder.h"

typedef struct clt_image_file {
  char *path;
  int32_t label;
  long long size, mtime_ns;
} clt_image_file;

typedef struct clt_image_list {
  int classes;
  char **class_names; /* [classes], sorted bytewise */
  long n, cap;
  clt_image_file *files; /* [n], by class, then path (bytewise) */
} clt_image_list;

/* Lists root's class folders and their files. Unsupported files and loops are counted in
 * report (not NULL). An empty class folder or none at all: CLT_ERR_BAD_DATA. */
clt_status clt_image_list_read(const char *root, clt_image_report *report, clt_image_list *out);
void clt_image_list_free(clt_image_list *l);

#endif
