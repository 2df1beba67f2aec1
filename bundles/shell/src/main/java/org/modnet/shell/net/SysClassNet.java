package org.modnet.shell.net;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.NetDevice;

/**
 * modnet's {@code /sys/class/net}: a directory per device of the namespace with the attributes
 * {@code net/core/net-sysfs.c} shows ({@code address}, {@code carrier}, {@code flags}, {@code mtu},
 * {@code operstate}, ...) and its {@code statistics/} counters, each file one line as sysfs prints it.
 * {@code cat} reads the files and {@code ls} lists the directories.
 */
final class SysClassNet {
    /** What sysfs's {@code statistics/} holds: {@code rtnl_link_stats64}'s fields but rx_otherhost_dropped. */
    static final List<String> STATISTICS;
    /** The attributes modnet has, sorted as {@code ls} prints them. */
    static final List<String> ATTRIBUTES = List.of("addr_len", "address", "broadcast", "carrier", "carrier_changes", "flags", "gro_flush_timeout",
            "ifindex", "iflink", "mtu", "napi_defer_hard_irqs", "operstate", "queues", "statistics", "tx_queue_len", "type");
    /** The attributes a write sets ({@code tee}): NAPI's deferral of the device's interrupt, as busy polling with SO_PREFER_BUSY_POLL uses it. */
    static final List<String> WRITABLE = List.of("gro_flush_timeout", "napi_defer_hard_irqs");
    /** A transmit queue's directory ({@code netdev_queue_default_attrs}) as modnet has it. */
    static final List<String> TX_QUEUE = List.of("tx_maxrate", "tx_timeout");
    /** {@code byte_queue_limits/} of a transmit queue of a device with a queue ({@code netdev_uses_bql}). */
    static final List<String> BQL = List.of("hold_time", "inflight", "limit", "limit_max", "limit_min");
    /** A receive queue's directory ({@code rx_queue_default_attrs}). */
    static final List<String> RX_QUEUE = List.of("rps_cpus", "rps_flow_cnt");

    static {
        List<String> names = new ArrayList<>();
        for (DeviceStats.Field f : DeviceStats.Field.values()) {
            if (f != DeviceStats.Field.RX_OTHERHOST_DROPPED) {
                names.add(f.name().toLowerCase(Locale.ROOT));
            }
        }
        names.sort(null);
        STATISTICS = List.copyOf(names);
    }

    /** A node of the tree: a directory's entries, a file's one line, or the errno text reading it gives. */
    record Node(List<String> entries, String text, String error) {
        boolean directory() {
            return entries != null;
        }

        static Node dir(List<String> entries) {
            return new Node(entries, null, null);
        }

        static Node file(String text) {
            return new Node(null, text, null);
        }
    }

    private SysClassNet() {
    }

    /** The node at {@code path} (normalised, under {@code /sys}) or null if there is none. */
    static Node lookup(String path, List<NetDevice> devices) {
        switch (path) {
            case "/sys":
                return Node.dir(List.of("class"));
            case "/sys/class":
                return Node.dir(List.of("net"));
            case "/sys/class/net": {
                List<String> names = new ArrayList<>();
                for (NetDevice d : devices) {
                    names.add(d.name());
                }
                names.sort(null);
                return Node.dir(names);
            }
            default:
                break;
        }
        if (!path.startsWith("/sys/class/net/")) {
            return null;
        }
        String[] parts = path.substring("/sys/class/net/".length()).split("/");
        NetDevice dev = null;
        for (NetDevice d : devices) {
            if (d.name().equals(parts[0])) {
                dev = d;
            }
        }
        if (dev == null || parts.length > 5) {
            return null;
        }
        if (parts.length >= 2 && parts[1].equals("queues")) {
            return queues(dev, parts);
        }
        if (parts.length > 3) {
            return null;
        }
        if (parts.length == 1) {
            return Node.dir(ATTRIBUTES);
        }
        if (parts[1].equals("statistics")) {
            if (parts.length == 2) {
                return Node.dir(STATISTICS);
            }
            if (!STATISTICS.contains(parts[2])) {
                return null;
            }
            return Node.file(Long.toUnsignedString(dev.stats().get(DeviceStats.Field.valueOf(parts[2].toUpperCase(Locale.ROOT)))));
        }
        return parts.length == 2 ? attribute(dev, parts[1]) : null;
    }

    /** {@code queues/}: {@code rx-N} and {@code tx-N} for each queue in use ({@code net_rx_queue_update_kobjects}). */
    private static Node queues(NetDevice dev, String[] parts) {
        int rx = Math.max(1, dev.rxQueues());
        int tx = Math.max(1, dev.txQueues());
        if (parts.length == 2) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < rx; i++) {
                names.add("rx-" + i);
            }
            for (int i = 0; i < tx; i++) {
                names.add("tx-" + i);
            }
            names.sort(null);
            return Node.dir(names);
        }
        String q = parts[2];
        boolean isTx = q.startsWith("tx-");
        if (!isTx && !q.startsWith("rx-")) {
            return null;
        }
        Integer index = Iproute.parseInt(q.substring(3));
        if (index == null || index < 0 || index >= (isTx ? tx : rx) || !q.substring(3).equals(Integer.toString(index))) {
            return null;
        }
        List<String> attrs = isTx ? TX_QUEUE : RX_QUEUE;
        org.modnet.api.net.ByteQueueLimits bql = isTx ? dev.byteQueueLimits(index) : null;
        if (bql != null) {
            attrs = new ArrayList<>(attrs);
            attrs.add("byte_queue_limits");
            attrs.sort(null);
        }
        if (parts.length == 3) {
            return Node.dir(attrs);
        }
        if (bql != null && parts[3].equals("byte_queue_limits")) {
            if (parts.length == 4) {
                return Node.dir(BQL);
            }
            return switch (parts[4]) {
                case "hold_time" -> Node.file(Long.toString(bql.holdTimeMs()));
                case "inflight" -> Node.file(Long.toString(bql.inflight()));
                case "limit" -> Node.file(Long.toString(bql.limit()));
                case "limit_max" -> Node.file(Long.toString(bql.limitMax()));
                case "limit_min" -> Node.file(Long.toString(bql.limitMin()));
                default -> null;
            };
        }
        if (parts.length > 4) {
            return null;
        }
        if (!attrs.contains(parts[3])) {
            return null;
        }
        // no rate limit, no timeouts seen, no RPS: what a fresh Linux queue shows
        return Node.file(parts[3].equals("rps_cpus") ? cpuMask() : "0");
    }

    /** An empty CPU bitmap as sysfs prints it: a hex digit per four CPUs, a comma every 32. */
    private static String cpuMask() {
        int cpus = Runtime.getRuntime().availableProcessors();
        int digits = Math.max(1, (cpus + 3) / 4);
        StringBuilder b = new StringBuilder();
        for (int i = digits; i > 0; i--) {
            b.append('0');
            if (i > 1 && (i - 1) % 8 == 0) {
                b.append(',');
            }
        }
        return b.toString();
    }

    private static Node attribute(NetDevice dev, String name) {
        return switch (name) {
            case "addr_len" -> Node.file("6");
            case "address" -> Node.file(dev.address().toString());
            case "broadcast" -> Node.file(dev.broadcast().toString());
            // carrier_show: -EINVAL while the device is down (netif_running false)
            case "carrier" -> dev.isUp() ? Node.file((dev.flags() & IfFlags.LOWER_UP) != 0 ? "1" : "0")
                    : new Node(null, null, "Invalid argument");
            // dev->flags: IFF_RUNNING and IFF_LOWER_UP are dev_get_flags()'s view of the carrier, not among them
            case "carrier_changes" -> Node.file(Long.toString(dev.carrierChanges()));
            case "gro_flush_timeout" -> Node.file(Long.toString(dev.groFlushTimeout()));
            case "napi_defer_hard_irqs" -> Node.file(Integer.toString(dev.napiDeferHardIrqs()));
            case "flags" -> Node.file(String.format("0x%x", dev.flags() & ~(IfFlags.RUNNING | IfFlags.LOWER_UP)));
            case "ifindex" -> Node.file(Integer.toString(dev.ifindex()));
            case "iflink" -> Node.file(Integer.toString(dev.link() == null ? dev.ifindex() : dev.link().ifindex()));
            case "mtu" -> Node.file(Integer.toString(dev.mtu()));
            case "operstate" -> Node.file(dev.operState().toLowerCase(Locale.ROOT));
            case "tx_queue_len" -> Node.file(Integer.toString(dev.txQueueLen()));
            case "type" -> Node.file(Integer.toString(dev.type()));
            default -> null;
        };
    }
}
