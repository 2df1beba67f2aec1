package org.modnet.shell.snmp;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.net.DeviceStats;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.NetDevice;

/**
 * net-tools' {@code netstat} views other than {@code -s}, read where net-tools reads them: the routing
 * table from {@code /proc/net/route} ({@code -r}), the sockets from {@code /proc/net/tcp} and {@code
 * /proc/net/udp} ({@code -t -u -a -l -n -p}), the interfaces from the devices' counters and flags
 * ({@code -i}). The columns and words are net-tools 2.10's. modnet has no name service: names are
 * printed as numbers with or without {@code -n} (but {@code default} for the default route, as
 * netstat -r prints it), and no process owns a socket ({@code -p} prints {@code -}).
 */
final class NetstatViews {
    private NetstatViews() {
    }

    /** {@code netstat -r [-n]} from {@code /proc/net/route}'s lines (its header first). */
    static List<String> routes(List<String> procNetRoute, boolean numeric) {
        List<String> out = new ArrayList<>();
        out.add("Kernel IP routing table");
        out.add("Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface");
        for (int i = 1; i < procNetRoute.size(); i++) {
            String[] f = procNetRoute.get(i).trim().split("\\s+");
            if (f.length < 11) {
                continue;
            }
            int dst = hexAddr(f[1]);
            int gw = hexAddr(f[2]);
            int flags = Integer.parseInt(f[3], 16);
            int mask = hexAddr(f[7]);
            String d = dst == 0 && mask == 0 && !numeric ? "default" : Ipv4Addresses.format(dst);
            out.add(String.format(Locale.ROOT, "%-15s %-15s %-15s %-5s %5s %-6s %5s %s", d, Ipv4Addresses.format(gw),
                    Ipv4Addresses.format(mask), routeFlags(flags), f[8], f[9], f[10], f[0]));
        }
        return out;
    }

    /** net-tools' route flags: U G H R D M, and ! for a reject route. */
    static String routeFlags(int flags) {
        StringBuilder b = new StringBuilder();
        if ((flags & 0x0001) != 0) {
            b.append('U');
        }
        if ((flags & 0x0002) != 0) {
            b.append('G');
        }
        if ((flags & 0x0200) != 0) {
            b.append('!');
        }
        if ((flags & 0x0004) != 0) {
            b.append('H');
        }
        if ((flags & 0x0008) != 0) {
            b.append('R');
        }
        if ((flags & 0x0010) != 0) {
            b.append('D');
        }
        if ((flags & 0x0020) != 0) {
            b.append('M');
        }
        return b.toString();
    }

    /** {@code netstat -i [-a]}: the devices that are up (all with {@code -a}), in the namespace's order. */
    static List<String> interfaces(List<NetDevice> devices, boolean all) {
        List<String> out = new ArrayList<>();
        out.add("Kernel Interface table");
        out.add("Iface             MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg");
        List<NetDevice> sorted = new ArrayList<>(devices);
        sorted.sort(java.util.Comparator.comparing(NetDevice::name)); // net-tools lists /proc/net/dev's names sorted
        for (NetDevice d : sorted) {
            if (!all && !d.isUp()) {
                continue;
            }
            DeviceStats s = d.stats();
            out.add(String.format(Locale.ROOT, "%-15.15s %5d %8s %6s %6s %-6s %8s %6s %6s %6s %s", d.name(), d.mtu(),
                    u(s.get(DeviceStats.Field.RX_PACKETS)), u(s.get(DeviceStats.Field.RX_ERRORS)), u(s.get(DeviceStats.Field.RX_DROPPED)),
                    u(s.get(DeviceStats.Field.RX_FIFO_ERRORS)), u(s.get(DeviceStats.Field.TX_PACKETS)),
                    u(s.get(DeviceStats.Field.TX_ERRORS)), u(s.get(DeviceStats.Field.TX_DROPPED)),
                    u(s.get(DeviceStats.Field.TX_FIFO_ERRORS)), ifFlags(d.flags())));
        }
        return out;
    }

    /** net-tools' interface flags, in its order. */
    static String ifFlags(int flags) {
        if (flags == 0) {
            return "[NO FLAGS]";
        }
        StringBuilder b = new StringBuilder();
        appendIf(b, flags, IfFlags.ALLMULTI, 'A');
        appendIf(b, flags, IfFlags.BROADCAST, 'B');
        appendIf(b, flags, IfFlags.DEBUG, 'D');
        appendIf(b, flags, IfFlags.LOOPBACK, 'L');
        appendIf(b, flags, IfFlags.MULTICAST, 'M');
        appendIf(b, flags, IfFlags.PROMISC, 'P');
        appendIf(b, flags, 0x20, 'N'); // IFF_NOTRAILERS
        appendIf(b, flags, IfFlags.NOARP, 'O');
        appendIf(b, flags, IfFlags.POINTOPOINT, 'P');
        appendIf(b, flags, 0x800, 's'); // IFF_SLAVE
        appendIf(b, flags, 0x400, 'm'); // IFF_MASTER
        appendIf(b, flags, IfFlags.RUNNING, 'R');
        appendIf(b, flags, IfFlags.UP, 'U');
        return b.toString();
    }

    private static void appendIf(StringBuilder b, int flags, int flag, char c) {
        if (flag != 0 && (flags & flag) != 0) {
            b.append(c);
        }
    }

    /** Which sockets {@code netstat} lists: the protocols, and servers, others or both. */
    record Sockets(boolean tcp, boolean udp, boolean listening, boolean all, boolean program) {
    }

    private static final String[] TCP_STATES = { "", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
        "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING" };

    /** The "Active Internet connections" section from the two /proc files' lines (null: the protocol is not loaded). */
    static List<String> sockets(List<String> tcp, List<String> udp, Sockets which) {
        List<String> out = new ArrayList<>();
        out.add("Active Internet connections (" + (which.all() ? "servers and established" : which.listening() ? "only servers"
                : "w/o servers") + ")");
        out.add("Proto Recv-Q Send-Q Local Address           Foreign Address         State      "
                + (which.program() ? " PID/Program name    " : ""));
        if (which.tcp() && tcp != null) {
            for (int i = 1; i < tcp.size(); i++) {
                String[] f = tcp.get(i).trim().split("\\s+");
                if (f.length < 5) {
                    continue;
                }
                int st = Integer.parseInt(f[3], 16);
                boolean server = st == 10;
                if (!which.all() && server != which.listening()) {
                    continue;
                }
                out.add(row("tcp", f, st < TCP_STATES.length ? TCP_STATES[st] : "UNKNOWN", which.program()));
            }
        }
        if (which.udp() && udp != null) {
            for (int i = 1; i < udp.size(); i++) {
                String[] f = udp.get(i).trim().split("\\s+");
                if (f.length < 5) {
                    continue;
                }
                boolean server = f[2].startsWith("00000000:"); // net-tools: a UDP socket with no peer serves
                if (!which.all() && server != which.listening()) {
                    continue;
                }
                int st = Integer.parseInt(f[3], 16);
                out.add(row("udp", f, st == 1 ? "ESTABLISHED" : "", which.program()));
            }
        }
        return out;
    }

    private static String row(String proto, String[] f, String state, boolean program) {
        String[] q = f[4].split(":");
        long tx = Long.parseLong(q[0], 16);
        long rx = q.length > 1 ? Long.parseLong(q[1], 16) : 0;
        return String.format(Locale.ROOT, "%-5s %6d %6d %-23s %-23s %-11s", proto, rx, tx, endpoint(f[1], false),
                endpoint(f[2], true), state) + (program ? String.format(Locale.ROOT, " %-20s", "-") : "");
    }

    /** {@code 0100007F:15B3} as {@code 127.0.0.1:5555}; a remote port 0 as {@code *}. */
    private static String endpoint(String hex, boolean remote) {
        String[] p = hex.split(":");
        int port = Integer.parseInt(p[1], 16);
        return Ipv4Addresses.format(hexAddr(p[0])) + ":" + (port == 0 && remote ? "*" : Integer.toString(port));
    }

    /** /proc's address: the 32 bits in host (little-endian) order, as the kernel prints __be32 with %08X. */
    static int hexAddr(String hex) {
        return Integer.reverseBytes((int) Long.parseLong(hex, 16));
    }

    private static String u(long v) {
        return Long.toUnsignedString(v);
    }
}
