package org.modnet.sched;

import java.util.List;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.sched.MqQdisc;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscHook;

/**
 * {@code tc qdisc ... root mq} ({@link MqQdisc}), and the core's default mq once tc takes it over:
 * {@code tc qdisc replace dev D parent H:N KIND} grafts onto queue N-1.
 */
final class SchMq extends MqQdisc implements ClassfulQdisc {
    private final NetDevice dev;
    private QdiscHook hook;
    /** A fresh default child, for a queue whose qdisc is deleted ({@code tc qdisc del ... parent H:N}). */
    private java.util.function.Supplier<Qdisc> defaults;
    /** The children as grafted, kept to destroy them with the root (the core forgets them when it goes). */
    private List<Qdisc> children = List.of();

    SchMq(NetDevice dev) {
        this.dev = dev;
    }

    /** {@code mq_init} + {@code mq_attach}: the children (one per queue) go onto the device's queues. */
    void attach(QdiscHook hook, List<Qdisc> kids, java.util.function.Supplier<Qdisc> defaults) throws NetException {
        this.hook = hook;
        this.defaults = defaults;
        this.children = List.copyOf(kids);
        hook.graftMulti(dev, this, kids);
    }

    @Override
    protected List<Qdisc> children() {
        return children;
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
}
