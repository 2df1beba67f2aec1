package org.modnet.ethernet;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PacketHandler;
import org.modnet.api.skb.SkBuff;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;

/**
 * 802.1Q tagged frames (ethertype 0x8100): the tag is parsed (priority, VLAN id, the inner ethertype)
 * and counted per namespace; modnet has no VLAN devices yet, so each frame then ends as Linux ends a
 * frame for a VLAN nobody configured: dropped, in the device's {@code rx_dropped}. A tag cut short is
 * a length error.
 */
@Component(service = { PacketHandler.class, SnmpMib.class }, immediate = true,
        configurationPolicy = ConfigurationPolicy.IGNORE, property = PacketHandler.ETHERTYPE
        + ":Integer=33024")
public final class Vlan implements PacketHandler, SnmpMib {
    enum Counter {
        VlanInFrames, VlanInUnknownVid, VlanInMalformed
    }

    static final int VLAN_HLEN = 4;

    private final Map<NetNamespace, AtomicLongArray> counters = new ConcurrentHashMap<>();
    /** The last tag seen per namespace, for tests and the curious: (vid << 16 | inner ethertype). */
    private final Map<NetNamespace, Long> last = new ConcurrentHashMap<>();

    @Override
    public void receive(SkBuff skb, NetDevice dev) {
        AtomicLongArray c = counters.computeIfAbsent(dev.namespace(), ns -> new AtomicLongArray(Counter.values().length));
        if (skb.headLen() < VLAN_HLEN) {
            c.incrementAndGet(Counter.VlanInMalformed.ordinal());
            dev.stats().addShared(DeviceStats.Field.RX_LENGTH_ERRORS, 1);
            dev.stats().addShared(DeviceStats.Field.RX_ERRORS, 1);
            skb.free();
            return;
        }
        int tci = skb.getU16(skb.data());
        int inner = skb.getU16(skb.data() + 2);
        c.incrementAndGet(Counter.VlanInFrames.ordinal());
        last.put(dev.namespace(), ((long) (tci & 0x0fff) << 16) | inner);
        // no VLAN device for this id (none exist yet): vlan_do_receive finds nothing, the frame is dropped
        c.incrementAndGet(Counter.VlanInUnknownVid.ordinal());
        dev.stats().addShared(DeviceStats.Field.RX_DROPPED, 1);
        skb.free();
    }

    long lastTag(NetNamespace ns) {
        return last.getOrDefault(ns, -1L);
    }

    @Override
    public String mib() {
        return "Vlan";
    }

    @Override
    public Map<String, Long> counters(NetNamespace ns) {
        AtomicLongArray c = counters.get(ns);
        Map<String, Long> m = new LinkedHashMap<>();
        for (Counter k : Counter.values()) {
            m.put(k.name(), c == null ? 0L : c.get(k.ordinal()));
        }
        return m;
    }
}
