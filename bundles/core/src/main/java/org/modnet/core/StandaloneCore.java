package org.modnet.core;

import java.util.function.LongSupplier;

import org.modnet.api.net.NetCore;
import org.modnet.api.net.PacketHandler;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.skb.SkBuffPool;

/**
 * A core without OSGi, for tests of other layers and for embedding: what the OSGi component does with
 * services (packet handlers, pernet operations) is done here by calls. Without threads, the caller is
 * the softirq: {@link #run()} drains every receive queue and runs the timers that are due by the clock.
 */
public final class StandaloneCore {
    private final CoreEngine engine;

    private StandaloneCore(CoreEngine engine) {
        this.engine = engine;
    }

    /** A core with {@code cpus} softirqs polled by the caller, on the given clock (nanoseconds). */
    public static StandaloneCore manual(int cpus, int buffers, LongSupplier nanoClock) {
        return new StandaloneCore(new CoreEngine(cpus, false, new SkBuffPool(buffers, 2048), nanoClock));
    }

    /**
     * A core whose softirq threads run on their own on the system clock, as the OSGi component's do:
     * for tests of what happens on wall time, such as timers armed from a thread outside the softirqs.
     * {@link #run()} is not for such a core.
     */
    public static StandaloneCore threaded(int cpus, int buffers) {
        return new StandaloneCore(new CoreEngine(cpus, true, new SkBuffPool(buffers, 2048), System::nanoTime));
    }

    public NetCore core() {
        return engine;
    }

    /** The core's qdisc hook, as the OSGi component offers it to the sched bundle. */
    public org.modnet.api.sched.QdiscHook qdiscHook() {
        return engine;
    }

    /** A qdisc family {@code net.core.default_qdisc} may name, as DS binds the sched bundle's to the core. */
    public void addQdiscFamily(String kind, org.modnet.api.sched.QdiscOps ops) {
        engine.defaultQdisc().addFamily(kind, ops);
    }

    public void removeQdiscFamily(String kind, org.modnet.api.sched.QdiscOps ops) {
        engine.defaultQdisc().removeFamily(kind, ops);
    }

    public void addHandler(int ethertype, PacketHandler handler) {
        engine.addHandler(ethertype, handler);
    }

    /** {@code dev_remove_pack}, as the component does when the handler's service goes (holding its frames if it hands over). */
    public void removeHandler(int ethertype, PacketHandler handler) {
        engine.removeHandler(ethertype, handler);
    }

    public void removePernet(PernetOperations ops) {
        engine.removePernet(ops);
    }

    /** The holder a layer deposits its tables in across an update. */
    public org.modnet.api.handover.StateHolder tables() {
        return engine.tables();
    }

    /** {@code dev_add_offload}: software segmentation for {@code ethertype}. */
    public void addOffload(int ethertype, org.modnet.api.net.PacketOffload offload) {
        engine.addOffload(ethertype, offload);
    }

    public void addPernet(PernetOperations ops, int order) {
        engine.addPernet(ops, order);
    }

    /** Runs every softirq until no receive work is left, then the timers due now; repeats while timers made work. */
    public void run() {
        boolean more = true;
        while (more) {
            more = false;
            for (int i = 0; i < engine.cpus(); i++) {
                while (engine.softirq(i).netRxAction()) {
                    more = true;
                }
            }
            for (int i = 0; i < engine.cpus(); i++) {
                if (engine.softirq(i).hasWork()) {
                    more = true; // a CPU polled after this one handed it frames (a veth peer, a cpumap)
                }
            }
            for (int i = 0; i < engine.cpus(); i++) {
                if (engine.softirq(i).runTimers() > 0) {
                    more = true;
                }
                if (engine.softirq(i).runWatchdogs() > 0) {
                    more = true; // a NAPI watchdog (gro_flush_timeout) scheduled its instance
                }
            }
        }
    }

    public void shutdown() {
        engine.shutdown();
    }
}
