#ifndef VB_TESTLIB_H
#define VB_TESTLIB_H

/*
 * A small assert harness (cf. OpenSSH test_helper). A test file defines
 * static test functions and a table; TEST_MAIN runs them all and prints
 * per-test failures and a closing "N passed, N failed" line. A failed
 * assertion ends the current test (not the binary).
 */

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

struct testlib_case {
	const char *name;
	void (*fn)(void);
};

extern jmp_buf testlib_jmp;
extern int testlib_failed_here;

#define TL_FAIL(...) do {						\
	fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__);		\
	fprintf(stderr, __VA_ARGS__);					\
	fprintf(stderr, "\n");						\
	testlib_failed_here = 1;					\
	longjmp(testlib_jmp, 1);					\
} while (0)

#define ASSERT_TRUE(c) do { if (!(c)) TL_FAIL("%s", #c); } while (0)
#define ASSERT_FALSE(c) do { if (c) TL_FAIL("!(%s)", #c); } while (0)
#define ASSERT_INT_EQ(a, b) do {					\
	long long a_ = (long long)(a), b_ = (long long)(b);		\
	if (a_ != b_)							\
		TL_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);	\
} while (0)
#define ASSERT_STR_EQ(a, b) do {					\
	const char *a_ = (a), *b_ = (b);				\
	if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)		\
		TL_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b,		\
		    a_ ? a_ : "(null)", b_ ? b_ : "(null)");		\
} while (0)
#define ASSERT_NULL(p) do { if ((p) != NULL) TL_FAIL("%s is not NULL", #p); } while (0)
#define ASSERT_NOT_NULL(p) do { if ((p) == NULL) TL_FAIL("%s is NULL", #p); } while (0)

#define TEST_MAIN(cases)						\
jmp_buf testlib_jmp;							\
int testlib_failed_here;						\
int main(void);								\
int									\
main(void)								\
{									\
	volatile size_t i_;						\
	size_t n_ = sizeof(cases) / sizeof(cases[0]);			\
	volatile int pass_ = 0, fail_ = 0;				\
	for (i_ = 0; i_ < n_; i_++) {					\
		testlib_failed_here = 0;				\
		if (setjmp(testlib_jmp) == 0)				\
			cases[i_].fn();					\
		if (testlib_failed_here) {				\
			fprintf(stderr, "not ok %s\n", cases[i_].name);	\
			fail_++;					\
		} else {						\
			printf("ok %s\n", cases[i_].name);		\
			pass_++;					\
		}							\
	}								\
	printf("%d passed, %d failed\n", pass_, fail_);			\
	return fail_ == 0 ? 0 : 1;					\
}

#endif
