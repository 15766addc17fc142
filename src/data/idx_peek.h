/* The sizes of a data set folder read from its IDX headers alone (a few bytes of each image
 * file, raw or gzip), so that a memory plan can be checked before the images are loaded. */
#ifndef CLT_DATA_IDX_PEEK_H
#define CLT_DATA_IDX_PEEK_H

/* n, h and w of dir's training (test_split 0) or test (1) image file, dir/PREFIX-images-
 * idx3-ubyte.gz or without .gz, as clt_dataset_load_dir would pick it. Returns 0, or -1
 * when the file is missing or its header is not a 3-D unsigned-byte IDX header (nothing is
 * recorded: loading the data set then says what is wrong). */
int clt_idx_peek_images(const char *dir, int test_split, int *n, int *h, int *w);

#endif
