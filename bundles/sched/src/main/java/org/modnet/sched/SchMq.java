package org.modnet.sched;

import java.util.List;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscHook;
import org.modnet.api.sched.QdiscStats;
import org.modnet.api.skb.SkBuff;

/**
 * {@code sch_mq.c}: the root of a multi-queue device that gives each transmit queue a qdisc of its
 * own (class {@code :N} is queue N-1), so the queues' senders never share a lock or a run flag. It
 * holds no frame: the core sends each frame to its queue's qdisc. Its counters are the sum of its
 * children's ({@code mq_dump}). {@code tc qdisc replace dev D parent H:N KIND} grafts onto queue N-1.
 */
final class SchMq implements ClassfulQdisc {
    private final NetDevice dev;
    private final QdiscStats raced = new QdiscStats();
    private QdiscHook hook;
    /** A fresh default child, for a queue whose qdisc is deleted ({@code tc qdisc del ... parent H:N}). */
    private java.util.function.Supplier<Qdisc> defaults;
    /** The children as grafted, kept to destroy them with the root (the core forgets them when it goes). */
    private Qdisc[] children = new Qdisc[0];

    SchMq(NetDevice dev) {
        this.dev = dev;
    }

    /** {@code mq_init} + {@code mq_attach}: the children (one per queue) go onto the device's queues. */
    void attach(QdiscHook hook, List<Qdisc> kids, java.util.function.Supplier<Qdisc> defaults) throws NetException {
        this.hook = hook;
        this.defaults = defaults;
        this.children = kids.toArray(new Qdisc[0]);
        hook.graftMulti(dev, this, kids);
    }

    int queues() {
        return children.length;
    }

    /** The qdisc of queue {@code index} (class {@code :index+1}). */
    Qdisc child(int index) {
        return children[index];
    }

    @Override
    public String kind() {
        return "mq";
    }

    /** Only a frame that races the attach comes here: dropped, counted (mq has no enqueue in Linux). */
    @Override
    public int enqueue(SkBuff skb) {
        raced.drop();
        skb.free();
        return NET_XMIT_DROP;
    }

    @Override
    public SkBuff dequeue() {
        return null;
    }

    @Override
    public void requeue(SkBuff skb) {
        raced.drop();
        skb.free();
    }

    @Override
    public int qlen() {
        int n = 0;
        for (Qdisc c : children) {
            synchronized (c) {
                n += c.qlen();
            }
        }
        return n;
    }

    @Override
    public int backlogBytes() {
        int n = 0;
        for (Qdisc c : children) {
            synchronized (c) {
                n += c.backlogBytes();
            }
        }
        return n;
    }

    @Override
    public int reset() {
        return 0; // the children are the core's to reset when the root goes
    }

    @Override
    public QdiscStats stats() {
        QdiscStats sum = new QdiscStats();
        sum.add(raced);
        for (Qdisc c : children) {
            sum.add(c.stats());
        }
        return sum;
    }

    @Override
    public boolean hasLeaf(int classid) {
        int minor = classid & 0xffff;
        return minor >= 1 && minor <= children.length;
    }

    @Override
    public Qdisc leaf(int classid) {
        return children[(classid & 0xffff) - 1];
    }

    /**
     * Grafts onto the queue; {@code q} null: a fresh default. Returns the old child, its
     * frames already freed and counted by the core (its {@link Qdisc#reset} then finds nothing).
     */
    @Override
    public Qdisc graft(int classid, Qdisc q) {
        int index = (classid & 0xffff) - 1;
        Qdisc old = children[index];
        if (q == null) {
            q = defaults.get();
        }
        try {
            hook.graftTx(dev, index, q);
        } catch (NetException e) {
            throw new IllegalStateException("mq: queue " + index + " of " + dev.name() + " is gone", e);
        }
        Qdisc[] now = children.clone();
        now[index] = q;
        children = now;
        return old;
    }

    @Override
    public void destroy() {
        for (Qdisc c : children) {
            c.destroy();
        }
    }
}
