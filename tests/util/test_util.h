#ifndef CLT_TEST_UTIL_H
#define CLT_TEST_UTIL_H
#endif
