/* The seeded RNG (rng-private.h): seeding and the bounded draws. */
#include "rng-private.h"

uint64_t ch_splitmix64_below(uint64_t *x, uint64_t n)
{
	uint64_t threshold = (0 - n) % n;
	for (;;) {
		uint64_t r = ch_splitmix64(x);
		if (r >= threshold)
			return r % n;
	}
}

void ch_rng_seed_splitmix(ch_rng *r, uint64_t *x)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = ch_splitmix64(x);
}

void ch_rng_seed(ch_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed;
	x = ch_splitmix64(&x) ^ (stream * UINT64_C(0xD1B54A32D192ED03));
	ch_rng_seed_splitmix(r, &x);
}

uint64_t ch_rng_below(ch_rng *r, uint64_t n)
{
	uint64_t lim = UINT64_MAX - UINT64_MAX % n;
	uint64_t v;
	do
		v = ch_rng_next(r);
	while (v >= lim);
	return v % n;
}
