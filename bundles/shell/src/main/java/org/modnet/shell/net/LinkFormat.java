package org.modnet.shell.net;

import static org.modnet.api.net.DeviceStats.Field.*;

import java.util.ArrayList;
import java.util.List;

import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;

/**
 * How iproute2 prints a link ({@code print_linkinfo} of {@code ip/ipaddress.c}): the header line, the
 * {@code link/ether} line, the {@code -s} counters and the {@code -br} line.
 */
final class LinkFormat {
    private LinkFormat() {
    }

    /**
     * {@code 5: veth0@veth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT
     * group default qlen 1000}; {@code mode} is only printed by {@code ip link}.
     */
    static String header(NetDevice dev, NetNamespace current, boolean withMode) {
        StringBuilder b = new StringBuilder();
        b.append(dev.ifindex()).append(": ").append(nameAndLink(dev, current)).append(": ");
        b.append(flags(dev, current)).append(' ');
        b.append("mtu ").append(dev.mtu()).append(' ');
        if (dev.xdp() != null) {
            b.append(dev.xdpNative() ? "xdp " : "xdpgeneric "); // as iproute2 names a driver's and the generic hook's
        }
        if (dev.qdisc() != null) {
            b.append("qdisc ").append(dev.qdisc()).append(' ');
        }
        b.append("state ").append(dev.operState()).append(' ');
        if (withMode) {
            b.append("mode DEFAULT ");
        }
        b.append("group default ");
        if (dev.txQueueLen() != 0) {
            b.append("qlen ").append(dev.txQueueLen());
        }
        return b.toString();
    }

    /** {@code veth0@veth1}, or {@code veth0@if6} when the peer is in another namespace. */
    static String nameAndLink(NetDevice dev, NetNamespace current) {
        NetDevice peer = dev.link();
        if (peer == null) {
            return dev.name();
        }
        if (Namespaces.same(peer.namespace(), current)) {
            return dev.name() + "@" + peer.name();
        }
        return dev.name() + "@if" + peer.ifindex();
    }

    /**
     * {@code <BROADCAST,MULTICAST,UP,LOWER_UP>}, with {@code M-DOWN} when the device it is linked to in
     * the same namespace is down (iproute2 cannot see the flags of a peer in another namespace).
     */
    static String flags(NetDevice dev, NetNamespace current) {
        List<String> names = new ArrayList<>(IfFlags.names(dev.flags()));
        NetDevice peer = dev.link();
        if (peer != null && Namespaces.same(peer.namespace(), current) && !peer.isUp()) {
            names.add("M-DOWN");
        }
        return "<" + String.join(",", names) + ">";
    }

    /** {@code    link/ether 02:..:01 brd ff:ff:ff:ff:ff:ff} and, across namespaces, {@code link-netns NAME}. */
    static String linkLine(NetDevice dev, NetNamespace current) {
        StringBuilder b = new StringBuilder("    link/").append(linkType(dev.type()));
        if (dev.address() != null) {
            b.append(' ').append(dev.address());
        }
        if (dev.broadcast() != null) {
            b.append(" brd ").append(dev.broadcast());
        }
        NetDevice peer = dev.link();
        if (peer != null && !Namespaces.same(peer.namespace(), current)) {
            NetNamespace other = peer.namespace();
            if (other == null || other.isInitNet()) {
                b.append(" link-netnsid 0"); // init_net has no name under /run/netns
            } else {
                b.append(" link-netns ").append(other.name());
            }
        }
        return b.toString();
    }

    /** Linux's defaults for a software device's segmentation limits ({@code GSO_MAX_SIZE} ...), which modnet's are. */
    static final int GSO_MAX_SIZE = 65536;
    static final int GSO_MAX_SEGS = 65535;
    static final int TSO_MAX_SIZE = 524280;
    static final int GRO_MAX_SIZE = 65536;

    /** The driver's link kind as {@code IFLA_INFO_KIND} names it, or null for a device without one (lo). */
    static String infoKind(NetDevice dev) {
        String k = dev.kind();
        return k == null || k.equals("loopback") ? null : k;
    }

    /**
     * {@code ip -d}: what goes after the link line's addresses ({@code promiscuity 0  allmulti 0 minmtu 68
     * maxmtu 65535 }, iproute2's double space included) and the details line ({@code veth numtxqueues 1
     * numrxqueues 2 gso_max_size ...}), which iproute2 starts on a line of its own for a device with a
     * link kind and leaves on the link line for one without. No {@code addrgenmode}: that is IPv6's.
     */
    static String[] details(NetDevice dev) {
        String link = " promiscuity " + ((dev.flags() & IfFlags.PROMISC) != 0 ? 1 : 0) + "  allmulti "
                + ((dev.flags() & IfFlags.ALLMULTI) != 0 ? 1 : 0) + " minmtu " + dev.minMtu() + " maxmtu " + maxMtu(dev) + " ";
        String rest = "numtxqueues " + Math.max(1, dev.txQueues()) + " numrxqueues " + Math.max(1, dev.rxQueues()) + " gso_max_size " + GSO_MAX_SIZE + " gso_max_segs "
                + GSO_MAX_SEGS + " tso_max_size " + TSO_MAX_SIZE + " tso_max_segs " + GSO_MAX_SEGS + " gro_max_size " + GRO_MAX_SIZE + " ";
        String kind = infoKind(dev);
        return kind == null ? new String[] { link + rest, null } : new String[] { link, "    " + kind + " " + rest };
    }

    /** {@code dev->max_mtu}: 0 where there is no limit (lo), as the kernel reports it. */
    private static int maxMtu(NetDevice dev) {
        return dev.maxMtu() == Integer.MAX_VALUE ? 0 : dev.maxMtu();
    }

    /** {@code ip -j -d}: the same details by their JSON names. */
    static void detailsJson(java.util.Map<String, Object> o, NetDevice dev) {
        o.put("promiscuity", (dev.flags() & IfFlags.PROMISC) != 0 ? 1 : 0);
        o.put("allmulti", (dev.flags() & IfFlags.ALLMULTI) != 0 ? 1 : 0);
        o.put("min_mtu", dev.minMtu());
        o.put("max_mtu", maxMtu(dev));
        String kind = infoKind(dev);
        if (kind != null) {
            java.util.Map<String, Object> info = Json.object();
            info.put("info_kind", kind);
            o.put("linkinfo", info);
        }
        o.put("num_tx_queues", Math.max(1, dev.txQueues()));
        o.put("num_rx_queues", Math.max(1, dev.rxQueues()));
        o.put("gso_max_size", GSO_MAX_SIZE);
        o.put("gso_max_segs", GSO_MAX_SEGS);
        o.put("tso_max_size", TSO_MAX_SIZE);
        o.put("tso_max_segs", GSO_MAX_SEGS);
        o.put("gro_max_size", GRO_MAX_SIZE);
    }

    /** {@code    prog/xdp id 3 name xdp_drop_icmp jited}: the attached XDP program, or null. */
    static String xdpLine(NetDevice dev) {
        var xdp = dev.xdp();
        return xdp == null ? null : "    prog/xdp " + xdp.describe();
    }

    /** {@code ll_type_n2a}. */
    static String linkType(int type) {
        return switch (type) {
            case Eth.ARPHRD_ETHER -> "ether";
            case Eth.ARPHRD_LOOPBACK -> "loopback";
            case 0xfffe -> "none";
            default -> "[" + type + "]";
        };
    }

    /**
     * The link as {@code ip -j link} prints it ({@code print_linkinfo} through iproute2's JSON writer):
     * the header's fields by their JSON names, {@code link} or {@code link_index} for the device it is
     * linked to, {@code link_netnsid} (a number in JSON, where the text names the namespace: the
     * other namespace is this one's peer 0, as for the first peer namespace on Linux), and with
     * {@code -s} {@code stats64}.
     */
    static java.util.Map<String, Object> json(NetDevice dev, NetNamespace current, boolean withMode, int stats) {
        return json(dev, current, withMode, stats, false);
    }

    static java.util.Map<String, Object> json(NetDevice dev, NetNamespace current, boolean withMode, int stats, boolean details) {
        java.util.Map<String, Object> o = Json.object();
        o.put("ifindex", dev.ifindex());
        link(o, dev, current);
        o.put("ifname", dev.name());
        o.put("flags", flagNames(dev, current));
        o.put("mtu", dev.mtu());
        if (dev.xdp() != null) {
            java.util.Map<String, Object> xdp = Json.object();
            xdp.put("mode", dev.xdpNative() ? 1 : 2); // XDP_ATTACHED_DRV, XDP_ATTACHED_SKB
            o.put("xdp", xdp);
        }
        if (dev.qdisc() != null) {
            o.put("qdisc", dev.qdisc());
        }
        o.put("operstate", dev.operState());
        if (withMode) {
            o.put("linkmode", "DEFAULT");
        }
        o.put("group", "default");
        if (dev.txQueueLen() != 0) {
            o.put("txqlen", dev.txQueueLen());
        }
        o.put("link_type", linkType(dev.type()));
        if (dev.address() != null) {
            o.put("address", dev.address().toString());
        }
        if (dev.broadcast() != null) {
            o.put("broadcast", dev.broadcast().toString());
        }
        NetDevice peer = dev.link();
        if (peer != null && !Namespaces.same(peer.namespace(), current)) {
            o.put("link_netnsid", 0);
        }
        if (details) {
            detailsJson(o, dev);
        }
        if (stats > 0) {
            o.put("stats64", stats64(dev.stats(), stats, dev.carrierChanges()));
        }
        return o;
    }

    /** {@code ip -j -br link}: name, its link, state, address, flags. */
    static java.util.Map<String, Object> briefJson(NetDevice dev, NetNamespace current) {
        java.util.Map<String, Object> o = Json.object();
        link(o, dev, current);
        o.put("ifname", dev.name());
        o.put("operstate", dev.operState());
        if (dev.address() != null) {
            o.put("address", dev.address().toString());
        }
        o.put("flags", flagNames(dev, current));
        return o;
    }

    /** {@code "link": "veth1"} for a peer in this namespace, {@code "link_index": 6} for one elsewhere. */
    static void link(java.util.Map<String, Object> o, NetDevice dev, NetNamespace current) {
        NetDevice peer = dev.link();
        if (peer == null) {
            return;
        }
        if (Namespaces.same(peer.namespace(), current)) {
            o.put("link", peer.name());
        } else {
            o.put("link_index", peer.ifindex());
        }
    }

    private static List<String> flagNames(NetDevice dev, NetNamespace current) {
        String f = flags(dev, current);
        return f.length() == 2 ? List.of() : List.of(f.substring(1, f.length() - 1).split(","));
    }

    /** {@code print_link_stats64} in JSON: rx and tx, with {@code -s -s} the error detail. */
    private static java.util.Map<String, Object> stats64(DeviceStats s, int level, long carrierChanges) {
        java.util.Map<String, Object> rx = Json.object();
        rx.put("bytes", s.get(RX_BYTES));
        rx.put("packets", s.get(RX_PACKETS));
        rx.put("errors", s.get(RX_ERRORS));
        rx.put("dropped", s.get(RX_DROPPED));
        rx.put("over_errors", s.get(RX_OVER_ERRORS));
        rx.put("multicast", s.get(MULTICAST));
        if (s.get(RX_COMPRESSED) != 0) {
            rx.put("compressed", s.get(RX_COMPRESSED));
        }
        java.util.Map<String, Object> tx = Json.object();
        tx.put("bytes", s.get(TX_BYTES));
        tx.put("packets", s.get(TX_PACKETS));
        tx.put("errors", s.get(TX_ERRORS));
        tx.put("dropped", s.get(TX_DROPPED));
        tx.put("carrier_errors", s.get(TX_CARRIER_ERRORS));
        tx.put("collisions", s.get(COLLISIONS));
        if (s.get(TX_COMPRESSED) != 0) {
            tx.put("compressed", s.get(TX_COMPRESSED));
        }
        if (level > 1) {
            rx.put("length_errors", s.get(RX_LENGTH_ERRORS));
            rx.put("crc_errors", s.get(RX_CRC_ERRORS));
            rx.put("frame_errors", s.get(RX_FRAME_ERRORS));
            rx.put("fifo_errors", s.get(RX_FIFO_ERRORS));
            rx.put("missed_errors", s.get(RX_MISSED_ERRORS));
            if (s.get(RX_NOHANDLER) != 0) {
                rx.put("nohandler", s.get(RX_NOHANDLER));
            }
            if (s.get(RX_OTHERHOST_DROPPED) != 0) {
                rx.put("otherhost", s.get(RX_OTHERHOST_DROPPED));
            }
            tx.put("aborted_errors", s.get(TX_ABORTED_ERRORS));
            tx.put("fifo_errors", s.get(TX_FIFO_ERRORS));
            tx.put("window_errors", s.get(TX_WINDOW_ERRORS));
            tx.put("heartbeat_errors", s.get(TX_HEARTBEAT_ERRORS));
            tx.put("carrier_changes", carrierChanges);
        }
        java.util.Map<String, Object> o = Json.object();
        o.put("rx", rx);
        o.put("tx", tx);
        return o;
    }

    /** {@code ip -br link}: {@code lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> }. */
    static String brief(NetDevice dev, NetNamespace current) {
        return String.format("%-16s %-14s %s %s ", nameAndLink(dev, current), dev.operState(), dev.address(),
                flags(dev, current));
    }

    /**
     * The counters as iproute2 5.x+ prints them ({@code print_link_stats64}): columns as wide as their
     * widest number, at least as wide as their titles; {@code level} 2 ({@code -s -s}) adds the error
     * detail.
     */
    static List<String> stats(DeviceStats s, int level) {
        return stats(s, level, 0);
    }

    /** {@link #stats(DeviceStats, int)} with the device's carrier changes in {@code -s -s}'s {@code transns}. */
    static List<String> stats(DeviceStats s, int level, long carrierChanges) {
        int[] cols = { 10, 7, 6, 7, 7, 7, 10 }; // "*X errors:", "packets", "errors", "dropped", "heartbt", "overrun", "compressed"
        size(cols, s.get(RX_BYTES), s.get(RX_PACKETS), s.get(RX_ERRORS), s.get(RX_DROPPED), s.get(RX_MISSED_ERRORS),
                s.get(MULTICAST), s.get(RX_COMPRESSED));
        size(cols, s.get(TX_BYTES), s.get(TX_PACKETS), s.get(TX_ERRORS), s.get(TX_DROPPED), s.get(TX_CARRIER_ERRORS),
                s.get(COLLISIONS), s.get(TX_COMPRESSED));
        if (level > 1) {
            size(cols, 0, s.get(RX_LENGTH_ERRORS), s.get(RX_CRC_ERRORS), s.get(RX_FRAME_ERRORS), s.get(RX_FIFO_ERRORS),
                    s.get(RX_OVER_ERRORS), s.get(RX_NOHANDLER));
            size(cols, 0, s.get(TX_ABORTED_ERRORS), s.get(TX_FIFO_ERRORS), s.get(TX_WINDOW_ERRORS),
                    s.get(TX_HEARTBEAT_ERRORS), carrierChanges, 0);
        }
        List<String> lines = new ArrayList<>();
        long rxCompressed = s.get(RX_COMPRESSED);
        lines.add(String.format("    RX: %" + (cols[0] - 4) + "s %" + cols[1] + "s %" + cols[2] + "s %" + cols[3] + "s %"
                + cols[4] + "s %" + cols[5] + "s %" + cols[6] + "s", "bytes", "packets", "errors", "dropped", "missed",
                "mcast", rxCompressed != 0 ? "compressed" : ""));
        lines.add("    " + nums(cols, 0, s.get(RX_BYTES), s.get(RX_PACKETS), s.get(RX_ERRORS), s.get(RX_DROPPED),
                s.get(RX_MISSED_ERRORS), s.get(MULTICAST)) + (rxCompressed != 0 ? num(cols[6], rxCompressed) : ""));
        if (level > 1) {
            long nohandler = s.get(RX_NOHANDLER);
            long otherhost = s.get(RX_OTHERHOST_DROPPED);
            // iproute2 6.1: "nohandler" and "otherhost" columns after overrun, each only when its counter is not
            // zero, and no blank placeholder for them (checked against ip -s -s link on Linux 6.18)
            int otherCol = Math.max("otherhost".length(), Long.toUnsignedString(otherhost).length());
            lines.add(String.format("    RX errors:%s %" + cols[1] + "s %" + cols[2] + "s %" + cols[3] + "s %" + cols[4]
                    + "s %" + cols[5] + "s", " ".repeat(cols[0] - 10), "length", "crc", "frame", "fifo", "overrun")
                    + (nohandler != 0 ? String.format(" %" + cols[6] + "s", "nohandler") : "")
                    + (otherhost != 0 ? String.format(" %" + otherCol + "s", "otherhost") : ""));
            lines.add(" ".repeat(cols[0] + 5) + nums(cols, 1, s.get(RX_LENGTH_ERRORS), s.get(RX_CRC_ERRORS),
                    s.get(RX_FRAME_ERRORS), s.get(RX_FIFO_ERRORS), s.get(RX_OVER_ERRORS))
                    + (nohandler != 0 ? num(cols[6], nohandler) : "")
                    + (otherhost != 0 ? num(otherCol, otherhost) : ""));
        }
        long txCompressed = s.get(TX_COMPRESSED);
        lines.add(String.format("    TX: %" + (cols[0] - 4) + "s %" + cols[1] + "s %" + cols[2] + "s %" + cols[3] + "s %"
                + cols[4] + "s %" + cols[5] + "s %" + cols[6] + "s", "bytes", "packets", "errors", "dropped", "carrier",
                "collsns", txCompressed != 0 ? "compressed" : ""));
        lines.add("    " + nums(cols, 0, s.get(TX_BYTES), s.get(TX_PACKETS), s.get(TX_ERRORS), s.get(TX_DROPPED),
                s.get(TX_CARRIER_ERRORS), s.get(COLLISIONS)) + (txCompressed != 0 ? num(cols[6], txCompressed) : ""));
        if (level > 1) {
            lines.add(String.format("    TX errors:%s %" + cols[1] + "s %" + cols[2] + "s %" + cols[3] + "s %" + cols[4]
                    + "s %" + cols[5] + "s", " ".repeat(cols[0] - 10), "aborted", "fifo", "window", "heartbt", "transns"));
            lines.add(" ".repeat(cols[0] + 5) + nums(cols, 1, s.get(TX_ABORTED_ERRORS), s.get(TX_FIFO_ERRORS),
                    s.get(TX_WINDOW_ERRORS), s.get(TX_HEARTBEAT_ERRORS), carrierChanges));
        }
        return lines;
    }

    /** {@code size_columns}: widen each column to its number's digits. */
    private static void size(int[] cols, long... values) {
        for (int i = 0; i < values.length; i++) {
            int len = Long.toUnsignedString(values[i]).length();
            cols[i] = Math.max(cols[i], len);
        }
    }

    private static String nums(int[] cols, int first, long... values) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            b.append(num(cols[first + i], values[i]));
        }
        return b.toString();
    }

    /** {@code print_num}: right-aligned to the column, then a space. */
    private static String num(int width, long value) {
        String v = Long.toUnsignedString(value);
        return " ".repeat(Math.max(0, width - v.length())) + v + " ";
    }
}
