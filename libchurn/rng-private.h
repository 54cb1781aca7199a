/*
 * The library's one seeded random number generator (libchurn/rng.c):
 * splitmix64 for seeding, xoshiro256** (Blackman and Vigna) for streams.
 * No global state: each user owns its state, so results depend only on the
 * seed. Every draw that reaches an output (splits, synthetic rows, forests,
 * GBM subsampling, permutation shuffles) is defined here; the sequences are
 * part of the outputs and must not change for a given seed.
 *
 * Two bounded-integer draws exist because two outputs were defined with
 * them: ch_rng_below (xoshiro256** streams: trees, GBM, permutations) and
 * ch_splitmix64_below (splitmix64 itself as the stream: churn_split_*).
 */
#ifndef CH_RNG_PRIVATE_H
#define CH_RNG_PRIVATE_H

#include <stdint.h>

/* The next splitmix64 output; advances *x by the golden-ratio step. */
static inline uint64_t ch_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * Uniform integer in [0, n), n > 0, drawn from the splitmix64 sequence of *x
 * (rejection below (2^64 - n) mod n: unbiased). The split's shuffles.
 */
uint64_t ch_splitmix64_below(uint64_t *x, uint64_t n);

/* A xoshiro256** stream. */
typedef struct ch_rng {
	uint64_t s[4];
} ch_rng;

/* Fill the state with the next four splitmix64 outputs of *x (advancing *x). */
void ch_rng_seed_splitmix(ch_rng *r, uint64_t *x);
/*
 * Seed stream `stream` of `seed`: independent streams per tree, iteration or
 * feature group from one seed (the first splitmix64 output of seed, mixed
 * with the stream number, seeds ch_rng_seed_splitmix).
 */
void ch_rng_seed(ch_rng *r, uint64_t seed, uint64_t stream);

static inline uint64_t ch_rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* The next 64 random bits (inline: synthetic rows and bootstraps draw in hot loops). */
static inline uint64_t ch_rng_next(ch_rng *r)
{
	uint64_t *s = r->s;
	const uint64_t result = ch_rng_rotl(s[1] * 5, 7) * 9;
	const uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ch_rng_rotl(s[3], 45);
	return result;
}

/* Uniform double in [0, 1): the top 53 bits. */
static inline double ch_rng_unit(ch_rng *r)
{
	return (double)(ch_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n > 0 (rejection at or above the largest multiple of n: unbiased). */
uint64_t ch_rng_below(ch_rng *r, uint64_t n);

#endif
