package org.modnet.tcp;

/**
 * Where Linux's write queue would carry PSH ({@code tcp_mark_push}, {@code forced_push},
 * {@code tso_fragment}), kept for modnet's send ring: the sequence numbers at which a write ended with
 * a push (the end of an skb whose PSH is set). A segment ending at such a mark gets PSH; a segment
 * never runs across one, as Linux never sends one segment from two skbs. A later write that appends to
 * data not yet sent takes the mark away, as {@code tcp_sendmsg} clears PSH on the unsent tail skb it
 * grows. The marks live in a small ring: when it is full the oldest goes (counted in {@link #dropped}),
 * which at worst costs one PSH bit, never data.
 */
final class TcpPush {
    /** How many push marks a connection keeps; more writes than this in flight lose the oldest mark. */
    static final int MAX_MARKS = 16;

    private final int[] marks = new int[MAX_MARKS];
    private int head;
    private int count;
    /** {@code pushed_seq}: {@code write_seq} at the last push mark, for {@link #forced}. */
    int pushedSeq;
    /** Marks forgotten because the ring was full. */
    long dropped;

    /** {@code tcp_mark_push}: the write ends with a push at {@code seq} ({@code write_seq}). */
    void mark(int seq) {
        pushedSeq = seq;
        if (count > 0 && marks[(head + count - 1) % MAX_MARKS] == seq) {
            return;
        }
        if (count == MAX_MARKS) {
            head = (head + 1) % MAX_MARKS;
            count--;
            dropped++;
        }
        marks[(head + count) % MAX_MARKS] = seq;
        count++;
    }

    /**
     * A new write appends at {@code writeSeq}: if the last mark is there and not yet sent
     * ({@code after(mark, sndNxt)}), Linux's unsent tail skb grows and loses its PSH.
     */
    void append(int writeSeq, int sndNxt) {
        if (count > 0) {
            int last = marks[(head + count - 1) % MAX_MARKS];
            if (last == writeSeq && TcpSeq.after(last, sndNxt)) {
                count--;
            }
        }
    }

    /** {@code forced_push}: more than half the peer's largest window written since the last push. */
    boolean forced(int writeSeq, int maxWindow) {
        return TcpSeq.after(writeSeq, pushedSeq + (maxWindow >> 1));
    }

    /** Forgets the marks at or below {@code sndUna}: the data they closed is acknowledged. */
    void acked(int sndUna) {
        while (count > 0 && !TcpSeq.after(marks[head], sndUna)) {
            head = (head + 1) % MAX_MARKS;
            count--;
        }
    }

    /** Whether a segment ending at {@code end} ends an skb with PSH. */
    boolean marked(int end) {
        for (int i = 0; i < count; i++) {
            if (marks[(head + i) % MAX_MARKS] == end) {
                return true;
            }
        }
        return false;
    }

    /**
     * How many of the {@code len} bytes from {@code seq} one segment may carry without running across a
     * mark (the end of an skb): {@code len}, or less.
     */
    int limit(int seq, int len) {
        for (int i = 0; i < count; i++) {
            int m = marks[(head + i) % MAX_MARKS];
            if (TcpSeq.after(m, seq) && TcpSeq.before(m, seq + len)) {
                return m - seq;
            }
        }
        return len;
    }

    /** Forgets every mark (a connection that starts again). */
    void clear(int seq) {
        count = 0;
        pushedSeq = seq;
    }

    /** The marks in order, oldest first: what a hand-over carries. */
    int[] marks() {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = marks[(head + i) % MAX_MARKS];
        }
        return out;
    }

    /** The marks and {@code pushed_seq} a previous version had (at most {@link #MAX_MARKS}, the newest kept). */
    void restore(int[] from, int pushed) {
        head = 0;
        count = 0;
        for (int i = Math.max(0, from.length - MAX_MARKS); i < from.length; i++) {
            marks[count++] = from[i];
        }
        pushedSeq = pushed;
    }
}
