package org.modnet.sched;

import java.util.List;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscHook;
import org.modnet.api.sched.QdiscStats;
import org.modnet.api.skb.SkBuff;

/**
 * {@code tc qdisc ... root mq}, and the core's default mq once tc takes it over: the classes of the
 * core's own mq root ({@code sch_mq} is built into the core, which counts and destroys its children),
 * so {@code tc qdisc replace dev D parent H:N KIND} grafts onto queue N-1.
 */
final class SchMq implements ClassfulQdisc {
    private final NetDevice dev;
    private QdiscHook hook;
    /** The core's mq on the device, which this one's qdisc calls go to. */
    private Qdisc root;
    /** A fresh default child, for a queue whose qdisc is deleted ({@code tc qdisc del ... parent H:N}). */
    private java.util.function.Supplier<Qdisc> defaults;
    /** The children as grafted, queue 0's first. */
    private List<Qdisc> children = List.of();

    SchMq(NetDevice dev) {
        this.dev = dev;
    }

    /** {@code mq_init} + {@code mq_attach}: the core's mq over the children (one per queue) goes on the device. */
    void attach(QdiscHook hook, List<Qdisc> kids, java.util.function.Supplier<Qdisc> defaults) throws NetException {
        this.hook = hook;
        this.defaults = defaults;
        this.children = List.copyOf(kids);
        hook.graftMulti(dev, null, kids);
        this.root = hook.qdisc(dev);
    }

    /** The qdisc the core has on the device for this one. */
    Qdisc root() {
        return root;
    }

    int queues() {
        return children.size();
    }

    /** The qdisc of queue {@code index} (class {@code :index+1}). */
    Qdisc child(int index) {
        return children.get(index);
    }

    @Override
    public boolean hasLeaf(int classid) {
        int minor = classid & 0xffff;
        return minor >= 1 && minor <= children.size();
    }

    @Override
    public Qdisc leaf(int classid) {
        return children.get((classid & 0xffff) - 1);
    }

    /**
     * Grafts onto the queue; {@code q} null: a fresh default. Returns the old child, its
     * frames already freed and counted by the core (its {@link Qdisc#reset} then finds nothing).
     */
    @Override
    public Qdisc graft(int classid, Qdisc q) {
        int index = (classid & 0xffff) - 1;
        Qdisc old = children.get(index);
        if (q == null) {
            q = defaults.get();
        }
        try {
            hook.graftTx(dev, index, q);
        } catch (NetException e) {
            throw new IllegalStateException("mq: queue " + index + " of " + dev.name() + " is gone", e);
        }
        Qdisc[] now = children.toArray(new Qdisc[0]);
        now[index] = q;
        children = List.of(now);
        return old;
    }

    // the qdisc itself is the core's mq

    @Override
    public String kind() {
        return "mq";
    }

    @Override
    public int enqueue(SkBuff skb) {
        return root.enqueue(skb);
    }

    @Override
    public SkBuff dequeue() {
        return root.dequeue();
    }

    @Override
    public void requeue(SkBuff skb) {
        root.requeue(skb);
    }

    @Override
    public int qlen() {
        return root.qlen();
    }

    @Override
    public int backlogBytes() {
        return root.backlogBytes();
    }

    @Override
    public int reset() {
        return root.reset();
    }

    @Override
    public QdiscStats stats() {
        return root.stats();
    }

    @Override
    public void destroy() {
        if (root != null) { // null: never attached, nothing grafted
            root.destroy();
        }
    }
}
