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
    static final List<String> ATTRIBUTES = List.of("addr_len", "address", "broadcast", "carrier", "carrier_changes", "flags", "ifindex", "iflink",
            "mtu", "operstate", "statistics", "tx_queue_len", "type");

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
        if (dev == null || parts.length > 3) {
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
