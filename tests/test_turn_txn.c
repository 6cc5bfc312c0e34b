/* tests/test_turn_txn.c: retransmission timing on an injected clock, and Karn's rule. */
#include <errno.h>
#include <string.h>

#include "tests/suites.h"
#include "turnclient/txn.h"

struct sent {
    int64_t at[32];
    unsigned n;
    int64_t now;
    int fail; /* error to return from the next send */
};

static int record(void *userdata, const uint8_t *buf, size_t len)
{
    struct sent *s = userdata;

    (void)buf;
    ck_assert_uint_ge(len, 20);
    if (s->fail)
        return s->fail;
    s->at[s->n++] = s->now;
    return 0;
}

/* Runs the timer at every deadline until the transaction gives up; returns the give-up time. */
static int64_t run(struct turn_txn *t, const struct turn_txn_config *c, struct sent *s)
{
    for (int guard = 0; guard < 64; guard++) {
        int r;

        s->now = turn_txn_deadline(t);
        r = turn_txn_on_timer(t, c, record, s, s->now);
        if (r == -ETIMEDOUT)
            return s->now;
        ck_assert_int_eq(r, 0);
    }
    ck_abort_msg("transaction never gave up");
    return -1;
}

static const uint8_t msg[20] = {0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1,  2,
                                3, 4, 5, 6, 7,    8,    9,    10,   11, 12};

START_TEST(test_rfc_schedule)
{
    static const int64_t want_ms[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
    struct turn_txn_config c;
    struct turn_txn t;
    struct sent s = {0};

    turn_txn_config_rfc(&c);
    ck_assert_int_eq(turn_txn_start(&t, &c, false, msg, sizeof(msg), record, &s, 0), 0);
    ck_assert_int_eq(run(&t, &c, &s), 39500 * 1000); /* RFC 8489 §6.2.1 example */
    ck_assert_uint_eq(s.n, 7);
    for (unsigned i = 0; i < 7; i++)
        ck_assert_int_eq(s.at[i], want_ms[i] * 1000);
    ck_assert_int_eq(turn_txn_deadline(&t), INT64_MAX);
}
END_TEST

START_TEST(test_probe_budget_and_tcp)
{
    struct turn_txn_config c = {.rto_us = 300000,
                                .max_sends = 4,
                                .last_wait = 4,
                                .reliable_us = 3000000,
                                .budget_us = 2000000};
    struct turn_txn t;
    struct sent s = {0};

    ck_assert_int_eq(turn_txn_start(&t, &c, false, msg, sizeof(msg), record, &s, 1000), 0);
    /* sends at 0, .3, .9, 2.1 s would exceed the 2 s budget: the last is cut */
    ck_assert_int_eq(run(&t, &c, &s), 1000 + 2000000);
    ck_assert_uint_eq(s.n, 3);

    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(turn_txn_start(&t, &c, true, msg, sizeof(msg), record, &s, 0), 0);
    ck_assert_int_eq(run(&t, &c, &s), 2000000); /* TCP: one send, min(Ti, budget) */
    ck_assert_uint_eq(s.n, 1);
}
END_TEST

START_TEST(test_match_finish_karn)
{
    struct turn_txn_config c;
    struct turn_txn t;
    struct sent s = {0};
    uint8_t other[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13};

    turn_txn_config_rfc(&c);
    ck_assert_int_eq(turn_txn_start(&t, &c, false, msg, sizeof(msg), record, &s, 100), 0);
    ck_assert(turn_txn_matches(&t, msg + 8));
    ck_assert(!turn_txn_matches(&t, other));
    ck_assert_int_eq(turn_txn_finish(&t, 1337), 1237); /* answered before any retransmission */
    ck_assert(!turn_txn_matches(&t, msg + 8));

    ck_assert_int_eq(turn_txn_start(&t, &c, false, msg, sizeof(msg), record, &s, 0), 0);
    s.now = turn_txn_deadline(&t);
    ck_assert_int_eq(turn_txn_on_timer(&t, &c, record, &s, s.now), 0); /* a retransmission */
    ck_assert_int_eq(turn_txn_finish(&t, s.now + 10), -1);             /* no RTT sample */
}
END_TEST

START_TEST(test_send_error_ends_transaction)
{
    struct turn_txn_config c;
    struct turn_txn t;
    struct sent s = {0};

    turn_txn_config_rfc(&c);
    ck_assert_int_eq(turn_txn_start(&t, &c, false, msg, sizeof(msg), record, &s, 0), 0);
    s.fail = -ECONNREFUSED;
    s.now = turn_txn_deadline(&t);
    ck_assert_int_eq(turn_txn_on_timer(&t, &c, record, &s, s.now), -ECONNREFUSED);
    ck_assert_int_eq(turn_txn_deadline(&t), INT64_MAX);
    ck_assert_int_eq(turn_txn_start(&t, &c, false, msg, 5000, record, &s, 0), -E2BIG);
}
END_TEST

Suite *turn_txn_suite(void)
{
    Suite *s = suite_create("turn_txn");
    TCase *tc = tcase_create("txn");

    tcase_add_test(tc, test_rfc_schedule);
    tcase_add_test(tc, test_probe_budget_and_tcp);
    tcase_add_test(tc, test_match_finish_karn);
    tcase_add_test(tc, test_send_error_ends_transaction);
    suite_add_tcase(s, tc);
    return s;
}
