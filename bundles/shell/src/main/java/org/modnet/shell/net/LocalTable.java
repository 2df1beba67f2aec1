package org.modnet.shell.net;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;

/**
 * Linux's two routing tables as {@code ip route show table ...} lists them. modnet routes by one FIB
 * (the main table's routes, plus the loopback device's own prefix, which Linux keeps in the local
 * table) and answers for its own addresses from the devices' address lists; the local table (255) is
 * the view Linux's {@code fib_add_ifaddr} builds from the same addresses on every device that is up:
 * {@code local ADDR} for each address, and for a primary address {@code broadcast} of its network
 * (prefixes shorter than /31) and of its {@code brd}, and on a loopback device its prefix as {@code
 * local} — each with the subnet's primary address as {@code src}.
 */
final class LocalTable {
    private LocalTable() {
    }

    /** Table ids and names as iproute2's {@code rt_tables}: the ones modnet has. */
    static final int LOCAL = 255;
    static final int MAIN = 254;

    /** A main-table route as Linux lists it: not the loopback device's prefix route (Linux's is in local). */
    static boolean inMain(RouteEntry r) {
        return !("kernel".equals(r.protocol()) && r.dev() != null && r.dev().type() == Eth.ARPHRD_LOOPBACK);
    }

    /** The main table: the FIB's routes less the loopback prefix. */
    static List<RouteEntry> main(List<RouteEntry> fib) {
        return fib.stream().filter(LocalTable::inMain).toList();
    }

    /** The local table of {@code ns}, in the trie's order (destination, then prefix length). */
    static List<RouteEntry> local(NetNamespace ns) {
        List<RouteEntry> out = new ArrayList<>();
        for (NetDevice d : ns.devices()) {
            if (!d.isUp()) {
                continue;
            }
            List<int[]> primaries = new ArrayList<>(); // {prefix, len, address}
            for (IfAddress a : d.addresses()) {
                if (!(a.address() instanceof Inet4Address v4)) {
                    continue;
                }
                int addr = Ipv4Addresses.toInt(v4);
                int len = a.prefixLen();
                int mask = len == 0 ? 0 : -1 << (32 - len);
                int prefix = addr & mask;
                int prim = addr;
                boolean secondary = false;
                for (int[] p : primaries) {
                    if (p[0] == prefix && p[1] == len) {
                        prim = p[2];
                        secondary = true;
                        break;
                    }
                }
                boolean loopback = d.type() == Eth.ARPHRD_LOOPBACK;
                out.add(entry("local", addr, 32, d, prim, "host"));
                if (secondary) {
                    continue;
                }
                primaries.add(new int[] { prefix, len, addr });
                if (prefix != addr || len < 32) {
                    if (loopback) {
                        out.add(entry("local", prefix, len, d, prim, "host"));
                    }
                    if (len < 31) {
                        out.add(entry("broadcast", prefix | ~mask, 32, d, prim, "link"));
                    }
                }
                if (a.broadcast() instanceof Inet4Address b) {
                    int brd = Ipv4Addresses.toInt(b);
                    if (brd != -1 && !(len < 31 && brd == (prefix | ~mask))) {
                        out.add(entry("broadcast", brd, 32, d, prim, "link"));
                    }
                }
            }
        }
        out.sort(Comparator.comparingLong((RouteEntry r) -> Integer.toUnsignedLong(r.prefix())).thenComparingInt(RouteEntry::len));
        return out;
    }

    private static RouteEntry entry(String type, int prefix, int len, NetDevice dev, int src, String scope) {
        return new RouteEntry(type, prefix, len, 0, dev, src, 0, "kernel", scope);
    }
}
