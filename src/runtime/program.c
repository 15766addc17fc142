#include "runtime/program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cl_errors.h"
#include "runtime/file_check.h"
#include "runtime/kernel_sources.h"
#include "runtime/program_cache.h"

#define COMMON_HEADER "common.clh"

static const char *program_names[64];
static int program_name_count = -1;

int clt_program_files(const char *const **names) {
  if (program_name_count < 0) {
    int n = 0;
    for (int i = 0; i < clt_kernel_source_count && n < 64; i++) {
      const char *name = clt_kernel_sources[i].name;
      size_t len = strlen(name);
      if (len > 3 && strcmp(name + len - 3, ".cl") == 0) program_names[n++] = name;
    }
    program_name_count = n;
  }
  *names = program_names;
  return program_name_count;
}

static const clt_kernel_source *embedded(const char *name) {
  for (int i = 0; i < clt_kernel_source_count; i++)
    if (strcmp(clt_kernel_sources[i].name, name) == 0) return &clt_kernel_sources[i];
  return NULL;
}

/* A bound on the read of one --kernel-dir file. */
#define CLT_KERNEL_FILE_MAX_BYTES ((uint64_t)16 << 20)

static clt_status read_part(const clt_ctx *ctx, const char *name, char **text, size_t *len) {
  if (!ctx->kernel_dir[0]) {
    const clt_kernel_source *src = embedded(name);
    if (!src) return clt_fail(CLT_ERR_INTERNAL, "no embedded kernel file %s", name);
    *text = malloc(src->length + 1);
    if (!*text) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory reading %s", name);
    memcpy(*text, src->text, src->length + 1);
    *len = src->length;
    return CLT_OK;
  }
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", ctx->kernel_dir, name);
  char hint[1300];
  snprintf(hint, sizeof hint, "the kernel folder %s must hold every file of cl/", ctx->kernel_dir);
  unsigned char *data;
  CLT_TRY(
      clt_file_read_all(path, "kernel file", hint, CLT_KERNEL_FILE_MAX_BYTES, NULL, &data, len));
  *text = (char *)data;
  return CLT_OK;
}

clt_status clt_program_source(const clt_ctx *ctx, const char *file, char **text, size_t *length) {
  char *common = NULL, *body = NULL;
  size_t clen = 0, blen = 0;
  *text = NULL;
  clt_status st = read_part(ctx, COMMON_HEADER, &common, &clen);
  if (st == CLT_OK) st = read_part(ctx, file, &body, &blen);
  if (st == CLT_OK) {
    /* A #line directive keeps build-log line numbers pointing into the file. */
    char line[128];
    int ln = snprintf(line, sizeof line, "\n#line 1\n");
    *text = malloc(clen + (size_t)ln + blen + 1);
    if (!*text)
      st = clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory building %s", file);
    else {
      memcpy(*text, common, clen);
      memcpy(*text + clen, line, (size_t)ln);
      memcpy(*text + clen + ln, body, blen + 1);
      *length = clen + (size_t)ln + blen;
    }
  }
  free(common);
  free(body);
  return st;
}

static clt_status build_failure(clt_ctx *ctx, cl_program prog, const char *file,
                                const char *options, cl_int err) {
  size_t size = 0;
  char *log = NULL;
  if (clGetProgramBuildInfo(prog, ctx->dev.id, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) ==
          CL_SUCCESS &&
      size > 0 && (log = malloc(size + 1)) != NULL) {
    if (clGetProgramBuildInfo(prog, ctx->dev.id, CL_PROGRAM_BUILD_LOG, size, log, NULL) !=
        CL_SUCCESS)
      size = 0;
    log[size] = '\0';
  }
  clt_status st =
      clt_fail(CLT_ERR_BUILD, "kernel build of %s failed on %s (%s) with options '%s': %s\n%s",
               file, ctx->dev.name, ctx->dev.platform_name, options, clt_cl_error_name(err),
               log ? log : "(no build log)");
  free(log);
  return st;
}

static int build_from_cache(clt_ctx *ctx, const char key[33], const clt_cache_key_parts *parts,
                            const char *options, cl_program *out) {
  unsigned char *binary = NULL;
  size_t size = 0;
  if (!clt_cache_load(ctx->cache_dir, key, parts, &binary, &size)) return 0;
  cl_int err, bin_status = CL_SUCCESS;
  const unsigned char *bins[1] = {binary};
  cl_program prog =
      clCreateProgramWithBinary(ctx->context, 1, &ctx->dev.id, &size, bins, &bin_status, &err);
  free(binary);
  if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
    if (prog) clReleaseProgram(prog); /* created, but the binary was rejected */
    return 0;
  }
  if (clBuildProgram(prog, 1, &ctx->dev.id, options, NULL, NULL) != CL_SUCCESS) {
    clReleaseProgram(prog); /* stale or corrupt: rebuilt from source by the caller */
    return 0;
  }
  *out = prog;
  return 1;
}

static void store_in_cache(clt_ctx *ctx, const char key[33], const clt_cache_key_parts *parts,
                           cl_program prog) {
  size_t size = 0;
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS ||
      size == 0)
    return;
  unsigned char *binary = malloc(size);
  if (!binary) return;
  unsigned char *bins[1] = {binary};
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) == CL_SUCCESS &&
      clt_cache_store(ctx->cache_dir, key, parts, binary, size) != CLT_OK) {
    clt_warn("kernel cache disabled: %s", clt_last_error());
    clt_clear_error();
    ctx->cache_enabled = ctx->program_binaries = 0;
  }
  free(binary);
}

static clt_status build_program(clt_ctx *ctx, const char *file, const char *options,
                                cl_program *out) {
  char *source = NULL;
  size_t length = 0;
  CLT_TRY(clt_program_source(ctx, file, &source, &length));
  char key[33] = {0};
  clt_cache_key_parts parts = {
      source, length, options, ctx->dev.name, ctx->dev.driver_version, ctx->dev.platform_version};
  if (ctx->program_binaries) {
    clt_cache_key(&parts, key);
    if (build_from_cache(ctx, key, &parts, options, out)) {
      ctx->cache_hits++;
      free(source);
      return CLT_OK;
    }
  }
  ctx->cache_misses++;
  cl_int err;
  const char *srcs[1] = {source};
  cl_program prog = clCreateProgramWithSource(ctx->context, 1, srcs, &length, &err);
  if (err != CL_SUCCESS) free(source);
  CLT_CL_CHECK_ERR(err, "clCreateProgramWithSource");
  err = clBuildProgram(prog, 1, &ctx->dev.id, options, NULL, NULL);
  if (err != CL_SUCCESS) {
    free(source);
    clt_status st = build_failure(ctx, prog, file, options, err);
    clReleaseProgram(prog);
    return st;
  }
  if (ctx->program_binaries) store_in_cache(ctx, key, &parts, prog); /* the entry holds parts */
  free(source);
  *out = prog;
  return CLT_OK;
}

clt_status clt_program_get(clt_ctx *ctx, const char *file, const char *options, cl_program *out) {
  char full[1024];
  snprintf(full, sizeof full, "%s%s%s", ctx->std_option, options && *options ? " " : "",
           options ? options : "");
  for (int i = 0; i < ctx->program_count; i++) {
    if (strcmp(ctx->programs[i].file, file) == 0 && strcmp(ctx->programs[i].options, full) == 0) {
      *out = ctx->programs[i].program;
      return CLT_OK;
    }
  }
  if (ctx->program_count == ctx->program_capacity) {
    int cap = ctx->program_capacity ? 2 * ctx->program_capacity : 16;
    clt_built_program *grown = realloc(ctx->programs, (size_t)cap * sizeof *grown);
    if (!grown) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory building %s", file);
    ctx->programs = grown;
    ctx->program_capacity = cap;
  }
  char *opt_copy = strdup(full);
  if (!opt_copy) return clt_fail(CLT_ERR_OUT_OF_MEMORY, "out of host memory building %s", file);
  cl_program prog = NULL;
  clt_status st = build_program(ctx, file, full, &prog);
  if (st != CLT_OK) {
    free(opt_copy);
    return st;
  }
  clt_built_program *bp = &ctx->programs[ctx->program_count++];
  snprintf(bp->file, sizeof bp->file, "%s", file);
  bp->options = opt_copy;
  bp->program = prog;
  *out = prog;
  return CLT_OK;
}
