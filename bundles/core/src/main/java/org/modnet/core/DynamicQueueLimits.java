package org.modnet.core;

/**
 * Byte queue limits' engine, Linux's {@code struct dql} ({@code lib/dynamic_queue_limits.c}): how many
 * bytes a transmit queue may have handed to its driver and not yet seen completed. The driver says
 * what it queued ({@link #queued}, {@code netdev_tx_sent_queue}) and what completed
 * ({@link #completed}, {@code netdev_tx_completed_queue}); the queue is stopped while
 * {@link #avail()} is negative, so the standing queue builds in the qdisc, where fq_codel sees it,
 * and not in the driver.
 *
 * <p>At each completion the limit adapts: a queue that ran dry while it was over its limit (it was
 * starved: the limit held back bytes the driver could have sent) grows the limit by what the
 * interval completed beyond the earlier queue plus the earlier overshoot; a queue that stayed busy
 * the whole interval had slack, and after {@link #holdTimeMs()} of slack the limit shrinks by the
 * smallest slack seen. The limit stays within {@code [limit_min, limit_max]}.
 *
 * <p>Linux keeps the counters as wrapping 32-bit values; these are 64-bit and do not wrap in any
 * lifetime, so their differences need no modular care. Callers serialize {@link #queued} with
 * itself and {@link #completed} with itself (the queue's transmit lock and its completion), as
 * Linux's callers do; the fields the other side reads are volatile.
 */
final class DynamicQueueLimits {
    /** {@code DQL_MAX_OBJECT}: the largest single object (UINT_MAX / 16). */
    static final long MAX_OBJECT = 0xffffffffL / 16;
    /** {@code DQL_MAX_LIMIT}: {@code limit_max}'s default and the largest value sysfs takes (1879048192). */
    static final long MAX_LIMIT = 0xffffffffL / 2 - MAX_OBJECT;
    /** The hold time's default, one second ({@code HZ} jiffies), in milliseconds as sysfs shows it. */
    static final long DEFAULT_HOLD_TIME_MS = 1000;

    // the producer's side (netdev_tx_sent_queue)
    private volatile long numQueued;
    private volatile long adjLimit;
    private long lastObjCnt;

    // the consumer's side (netdev_tx_completed_queue)
    private volatile long limit;
    private volatile long numCompleted;
    private long prevOvlimit;
    private long prevNumQueued;
    private long prevLastObjCnt;
    private long lowestSlack;
    private long slackStartNanos;

    // configuration (sysfs byte_queue_limits/)
    private volatile long maxLimit = MAX_LIMIT;
    private volatile long minLimit;
    private volatile long holdTimeMs = DEFAULT_HOLD_TIME_MS;

    DynamicQueueLimits(long nowNanos) {
        reset(nowNanos);
    }

    /** {@code dql_reset}: nothing in flight, the limit back at {@code limit_min}. */
    void reset(long nowNanos) {
        limit = minLimit;
        numQueued = 0;
        numCompleted = 0;
        adjLimit = limit;
        lastObjCnt = 0;
        prevOvlimit = 0;
        prevNumQueued = 0;
        prevLastObjCnt = 0;
        lowestSlack = Long.MAX_VALUE;
        slackStartNanos = nowNanos;
    }

    /** {@code dql_queued}: {@code count} bytes went to the driver. */
    void queued(long count) {
        lastObjCnt = count;
        numQueued += count;
    }

    /** {@code dql_avail}: bytes that may still be queued; negative: the queue must stop. */
    long avail() {
        return adjLimit - numQueued;
    }

    /** {@code dql_completed}: the driver finished {@code count} bytes; adapts the limit. */
    void completed(long count, long nowNanos) {
        long queued = numQueued;
        long doneBefore = numCompleted;
        long completed = doneBefore + count;
        long lim = limit;
        long ovlimit = Math.max(queued - doneBefore - lim, 0);
        long inprogress = queued - completed;
        long prevInprogress = prevNumQueued - doneBefore;
        boolean allPrevCompleted = completed >= prevNumQueued;

        if ((ovlimit > 0 && inprogress == 0) || (prevOvlimit > 0 && allPrevCompleted)) {
            // starved: the limit held back what the driver could have sent; grow by what this interval
            // completed beyond the earlier queue, plus the earlier overshoot
            lim += Math.max(completed - prevNumQueued, 0) + prevOvlimit;
            slackStartNanos = nowNanos;
            lowestSlack = Long.MAX_VALUE;
        } else if (inprogress > 0 && prevInprogress > 0 && !allPrevCompleted) {
            // busy all along: the slack is what the limit had beyond twice this interval's work (or
            // beyond the last object when the queue went over), and the smallest slack over the hold
            // time is what the limit can lose
            long slack = Math.max(lim + prevOvlimit - 2 * (completed - doneBefore), 0);
            long slackLastObjs = prevOvlimit > 0 ? Math.max(prevLastObjCnt - prevOvlimit, 0) : 0;
            slack = Math.max(slack, slackLastObjs);
            if (slack < lowestSlack) {
                lowestSlack = slack;
            }
            if (nowNanos - slackStartNanos > holdTimeMs * 1_000_000L) {
                lim = Math.max(lim - lowestSlack, 0);
                slackStartNanos = nowNanos;
                lowestSlack = Long.MAX_VALUE;
            }
        }
        lim = Math.min(Math.max(lim, minLimit), maxLimit);
        if (lim != limit) {
            limit = lim;
            ovlimit = 0;
        }
        adjLimit = lim + completed;
        prevOvlimit = ovlimit;
        prevLastObjCnt = lastObjCnt;
        numCompleted = completed;
        prevNumQueued = queued;
    }

    /** {@code byte_queue_limits/inflight}: bytes queued to the driver and not completed. */
    long inflight() {
        return numQueued - numCompleted;
    }

    long limit() {
        return limit;
    }

    long limitMax() {
        return maxLimit;
    }

    long limitMin() {
        return minLimit;
    }

    long holdTimeMs() {
        return holdTimeMs;
    }

    /**
     * {@code byte_queue_limits/limit}, {@code limit_max}, {@code limit_min} as sysfs parses them
     * ({@code bql_set}): a decimal number up to {@link #MAX_LIMIT}, or {@code max}.
     *
     * @throws IllegalArgumentException what sysfs answers with EINVAL
     */
    static long parseLimit(String text) {
        String s = text.strip();
        if (s.equals("max")) {
            return MAX_LIMIT;
        }
        long v;
        try {
            v = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid argument");
        }
        if (v < 0 || v > MAX_LIMIT) {
            throw new IllegalArgumentException("Invalid argument");
        }
        return v;
    }

    /** Writing {@code limit}: the next completion clamps it to the bounds. */
    void setLimit(long value) {
        limit = value;
        adjLimit = value + numCompleted;
    }

    void setLimitMax(long value) {
        maxLimit = value;
    }

    void setLimitMin(long value) {
        minLimit = value;
    }

    /** {@code hold_time} in milliseconds. */
    void setHoldTimeMs(long ms) {
        if (ms < 0) {
            throw new IllegalArgumentException("Invalid argument");
        }
        holdTimeMs = ms;
    }
}
