package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.skb.SkBuff;

/**
 * {@code pfifo} and {@code bfifo} ({@code net/sched/sch_fifo.c}): one FIFO with a limit in packets or
 * in bytes; the default limit is the device's {@code txqueuelen} (times its MTU for bfifo).
 */
final class SchFifo extends SchedQdisc {
    static final String PFIFO_USAGE = "Usage: ... pfifo [ limit NUMBER ]";
    static final String BFIFO_USAGE = "Usage: ... bfifo [ limit NUMBER ]";

    private final boolean bytes;
    private final SkbQueue q = new SkbQueue();
    private long limit;

    SchFifo(QdiscEnv env, boolean bytes, List<String> args) {
        super(env);
        this.bytes = bytes;
        this.limit = parse(args);
    }

    private long parse(List<String> words) {
        long lim = bytes ? (long) txQueueLen() * (env.device().mtu() + 14) : txQueueLen();
        Args a = new Args(words, bytes ? BFIFO_USAGE : PFIFO_USAGE);
        while (a.more()) {
            String w = a.next();
            if (!w.equals("limit")) {
                throw a.unknown(w);
            }
            String s = a.value();
            Integer packets = bytes ? null : TcUtil.parseU32(s);
            Long v = bytes ? TcUtil.parseSize(s) : packets == null ? null : Long.valueOf(packets);
            if (v == null) {
                throw TcUtil.illegal("limit");
            }
            lim = v;
        }
        return lim;
    }

    @Override
    public String kind() {
        return bytes ? "bfifo" : "pfifo";
    }

    @Override
    public int enqueue(SkBuff skb) {
        if (bytes ? q.bytes() + skb.len() > limit : q.len() >= limit) {
            return drop(skb);
        }
        q.addLast(skb);
        return NET_XMIT_SUCCESS;
    }

    @Override
    protected SkBuff dequeueNext() {
        return q.pollFirst();
    }

    @Override
    protected int resetQueue() {
        return q.purge();
    }

    @Override
    protected int queueLen() {
        return q.len();
    }

    @Override
    protected int queueBytes() {
        return q.bytes();
    }

    @Override
    public void change(List<String> args) {
        limit = parse(args);
    }

    /** {@code fifo_init}: bypass when the limit holds at least one packet (bfifo: one MTU-sized frame). */
    @Override
    public boolean canBypass() {
        return bytes ? limit >= env.device().mtu() + 14 : limit >= 1;
    }

    @Override
    public String options() {
        return "limit " + (bytes ? TcUtil.size(limit) : limit + "p");
    }
}
