package org.modnet.sched;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscOps;
import org.modnet.api.skb.SkBuff;
import org.modnet.core.StandaloneCore;
import org.modnet.drivers.veth.VethDriver;

/**
 * A manual core on a virtual clock with a veth pair va -> vb, the tc command wired as DS would wire it,
 * and a handler counting what arrives on vb: traffic control end to end without threads.
 */
final class SchedRig implements AutoCloseable {
    static final int ETHERTYPE = 0x88b5; // IEEE local experimental

    final AtomicLong clock = new AtomicLong(1_000_000_000L);
    final StandaloneCore core = StandaloneCore.manual(1, 8192, clock::get);
    final TcCommand tc = new TcCommand(core.core(), core.qdiscHook());
    final NetDevice va;
    NetDevice vb;
    long received;
    long receivedBytes;

    SchedRig() throws Exception {
        Map<String, QdiscOps> families = Map.of("pfifo_fast", new PfifoFastOps(), "pfifo", new PfifoOps(), "bfifo",
                new BfifoOps(), "prio", new PrioOps(), "tbf", new TbfOps(), "netem", new NetemOps(), "noqueue", new NoqueueOps(), "fq_codel", new FqCodelOps(), "htb", new HtbOps(), "fq", new FqOps());
        families.forEach((kind, ops) -> tc.addFamily(ops, Map.of(QdiscOps.KIND, kind)));
        core.addHandler(ETHERTYPE, (skb, dev) -> {
            if (dev == vb) {
                received++;
                receivedBytes += skb.len();
            }
            skb.free();
        });
        va = new VethDriver().create(core.core().initNet(), "va", List.of("peer", "name", "vb"));
        vb = core.core().initNet().device("vb");
        va.open();
        vb.open();
    }

    List<String> tc(String line) {
        return tc.run(null, line.split(" "));
    }

    /** A frame of {@code size} bytes for vb, sent on va through the qdisc. */
    void send(int size) {
        core.core().devQueueXmit(frame(size, 0));
    }

    SkBuff frame(int size, int priority) {
        SkBuff skb = core.core().pool().alloc(size);
        int off = skb.put(size);
        MacAddress dst = vb.address();
        skb.setU16(off, (int) (dst.bits() >>> 32));
        skb.setU32(off + 2, (int) dst.bits());
        skb.setU16(off + 6, 0x0200);
        skb.setU32(off + 8, 1);
        skb.setU16(off + 12, ETHERTYPE);
        skb.priority(priority);
        skb.dev(va);
        return skb;
    }

    /** Moves the clock and runs softirqs and due timers. */
    void advanceMillis(long ms) {
        clock.addAndGet(ms * 1_000_000L);
        core.run();
    }

    Qdisc qdisc() {
        return core.qdiscHook().qdisc(va);
    }

    long txDropped() {
        return va.stats().get(DeviceStats.Field.TX_DROPPED);
    }

    @Override
    public void close() {
        core.shutdown();
    }
}
