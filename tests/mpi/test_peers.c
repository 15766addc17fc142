/* The MPI peers layer (dist/peers_mpi.c), run by CTest under mpirun -np 2 (tests/mpi/run.sh):
 *  - in-place bucket sums of several sizes (0, 1, odd, larger than libnbc's 64 KiB switch),
 *    many in flight at once and waited for in another order than started: every element
 *    equals the sum of the ranks' values (exactly for 2 ranks: one float addition);
 *  - every rank holds the same bits (rank 0's result broadcast and compared);
 *  - the same sums done twice give the same bits;
 *  - sums of doubles, the largest int, a broadcast of several MiB, rank, size and host;
 *  - a wait for an id that was never started is an error, not a hang.
 * Every rank makes the same collective calls whatever its checks find, so that a failing
 * check cannot leave the other rank waiting (run.sh also gives mpirun a time limit). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/peers.h"

static clt_peers *peers;

/* A value of rank r at index i with a wide spread of magnitudes and signs, so that the
 * order of the additions shows in the bits when there are more than 2 ranks. */
static float value(int r, size_t i) {
  uint32_t h = (uint32_t)(i * 2654435761u) ^ (uint32_t)(r * 40503u + 17u);
  h ^= h >> 13;
  h *= 0x5bd1e995u;
  h ^= h >> 15;
  float mantissa = (float)(h & 0xffff) / 65536.0f - 0.5f;
  int exponent = (int)((h >> 16) % 24) - 12;
  return ldexpf(mantissa, exponent);
}

static void fill(float *data, size_t n, int rank) {
  for (size_t i = 0; i < n; i++) data[i] = value(rank, i);
}

/* 1 when data[0, n) holds the sum over size ranks of value(r, i): exactly for 2 ranks, within
 * float rounding of the double sum for more. */
static int sums_right(const float *data, size_t n, int size) {
  for (size_t i = 0; i < n; i++) {
    if (size == 2) {
      float expected = value(0, i) + value(1, i);
      if (memcmp(&expected, &data[i], sizeof expected) != 0) return 0;
    } else {
      double expected = 0, scale = 0;
      for (int r = 0; r < size; r++) {
        expected += value(r, i);
        scale += fabs(value(r, i));
      }
      if (fabs(data[i] - expected) > 1e-6 * scale) return 0;
    }
  }
  return 1;
}

/* 1 when this rank's bytes equal rank 0's. */
static int same_as_rank0(const void *data, size_t bytes) {
  void *copy = malloc(bytes ? bytes : 1);
  memcpy(copy, data, bytes);
  assert_int_equal(clt_peers_broadcast(peers, copy, bytes), CLT_OK);
  int same = memcmp(copy, data, bytes) == 0;
  free(copy);
  return same;
}

static const size_t sizes[] = {0, 1, 7, 1000, 4099, 16384, 16385, 65537, 300001};
enum { BUCKETS = sizeof sizes / sizeof sizes[0] };

/* All buckets started at once, waited for last to first. */
static void sum_buckets(float **buckets) {
  int rank = clt_peers_rank(peers);
  int request[BUCKETS];
  for (int b = 0; b < BUCKETS; b++) {
    fill(buckets[b], sizes[b], rank);
    assert_int_equal(clt_peers_sum_start(peers, buckets[b], sizes[b], &request[b]), CLT_OK);
  }
  for (int b = BUCKETS - 1; b >= 0; b--)
    assert_int_equal(clt_peers_sum_wait(peers, request[b]), CLT_OK);
}

static void test_bucket_sums(void **state) {
  (void)state;
  int size = clt_peers_size(peers);
  float *first[BUCKETS], *second[BUCKETS];
  for (int b = 0; b < BUCKETS; b++) {
    first[b] = malloc((sizes[b] ? sizes[b] : 1) * sizeof(float));
    second[b] = malloc((sizes[b] ? sizes[b] : 1) * sizeof(float));
  }
  sum_buckets(first);
  sum_buckets(second);
  int right[BUCKETS], same[BUCKETS], again[BUCKETS];
  for (int b = 0; b < BUCKETS; b++) {
    right[b] = sums_right(first[b], sizes[b], size);
    same[b] = same_as_rank0(first[b], sizes[b] * sizeof(float));
    again[b] = memcmp(first[b], second[b], sizes[b] * sizeof(float)) == 0;
  }
  for (int b = 0; b < BUCKETS; b++) {
    if (!right[b] || !same[b] || !again[b])
      print_error("bucket of %zu floats: sum %s, same as rank 0 %s, same twice %s\n", sizes[b],
                  right[b] ? "right" : "WRONG", same[b] ? "yes" : "NO", again[b] ? "yes" : "NO");
    assert_true(right[b]);
    assert_true(same[b]);
    assert_true(again[b]);
    free(first[b]);
    free(second[b]);
  }
}

/* More sums in flight than the request table starts with (16), in 3 rounds. */
static void test_many_in_flight(void **state) {
  (void)state;
  enum { N = 40, LEN = 333 };
  int rank = clt_peers_rank(peers), size = clt_peers_size(peers);
  float *data = malloc(N * LEN * sizeof(float));
  int ok = 1;
  for (int round = 0; round < 3; round++) {
    int request[N];
    for (int k = 0; k < N; k++) {
      fill(data + k * LEN, LEN, rank);
      assert_int_equal(clt_peers_sum_start(peers, data + k * LEN, LEN, &request[k]), CLT_OK);
    }
    for (int k = 0; k < N; k++) assert_int_equal(clt_peers_sum_wait(peers, request[k]), CLT_OK);
    for (int k = 0; k < N; k++) ok &= sums_right(data + k * LEN, LEN, size);
  }
  free(data);
  assert_true(ok);
}

static void test_doubles_max_broadcast(void **state) {
  (void)state;
  int rank = clt_peers_rank(peers), size = clt_peers_size(peers);
  double d[3] = {1.0, 0.25 * rank, -1e300};
  assert_int_equal(clt_peers_sum_doubles(peers, d, 3), CLT_OK);
  assert_true(d[0] == size);
  assert_true(d[1] == 0.25 * size * (size - 1) / 2);
  assert_true(d[2] == -1e300 * size);
  int m = rank == size - 1 ? 7 : -3;
  assert_int_equal(clt_peers_max_int(peers, &m), CLT_OK);
  assert_int_equal(m, 7);
  size_t bytes = 3u << 20;
  unsigned char *b = malloc(bytes);
  for (size_t i = 0; i < bytes; i++) b[i] = (unsigned char)(rank == 0 ? i * 31 + 5 : 0);
  assert_int_equal(clt_peers_broadcast(peers, b, bytes), CLT_OK);
  int ok = 1;
  for (size_t i = 0; i < bytes; i++) ok &= b[i] == (unsigned char)(i * 31 + 5);
  free(b);
  assert_true(ok);
}

static void test_identity(void **state) {
  (void)state;
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  assert_int_equal(clt_peers_size(peers), size);
  assert_true(size >= 2); /* run.sh starts 2 ranks: one alone would prove nothing */
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  assert_int_equal(clt_peers_rank(peers), rank);
  assert_true(clt_peers_host(peers)[0] != '\0');
  /* NULL peers: a run of one. */
  assert_int_equal(clt_peers_rank(NULL), 0);
  assert_int_equal(clt_peers_size(NULL), 1);
  float x = 3.5f;
  int request;
  assert_int_equal(clt_peers_sum_start(NULL, &x, 1, &request), CLT_OK);
  assert_int_equal(clt_peers_sum_wait(NULL, request), CLT_OK);
  assert_true(x == 3.5f);
}

static void test_bad_wait(void **state) {
  (void)state;
  assert_int_equal(clt_peers_sum_wait(peers, 12345), CLT_ERR_INTERNAL);
  assert_int_equal(clt_peers_sum_wait(peers, -1), CLT_ERR_INTERNAL);
  assert_non_null(strstr(clt_last_error(), "no sum under way"));
}

int main(int argc, char **argv) {
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  if (clt_peers_open(&peers) != CLT_OK) {
    fprintf(stderr, "test_peers: %s\n", clt_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_identity),       cmocka_unit_test(test_bucket_sums),
      cmocka_unit_test(test_many_in_flight), cmocka_unit_test(test_doubles_max_broadcast),
      cmocka_unit_test(test_bad_wait),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  /* Both ranks' verdicts: the test fails when either failed. */
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  clt_peers_close(peers);
  MPI_Finalize();
  return failed ? 1 : 0;
}
