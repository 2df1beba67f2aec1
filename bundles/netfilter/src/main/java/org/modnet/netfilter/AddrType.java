package org.modnet.netfilter;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.List;

import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;

/**
 * {@code -m addrtype --src-type/--dst-type} (xt_addrtype.c) and the address classes it asks
 * {@code inet_addr_type} for: LOCAL for an address of this namespace (127/8 too), BROADCAST for
 * 0.0.0.0, 255.255.255.255 and a subnet's broadcast address, MULTICAST for 224/4, else UNICAST.
 */
final class AddrType {
    /** RTN_* in their order: the type's bit in a mask is {@code 1 << index}. */
    static final String[] NAMES = { "UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE",
            "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE" };
    static final int UNICAST = 1, LOCAL = 2, BROADCAST = 3, MULTICAST = 5;

    /** How a table classifies an address: by its namespace's addresses, or without any. */
    interface Classifier {
        int type(int addr);
    }

    /** No namespace known (a table made by a test): nothing is LOCAL but 127/8. */
    static final Classifier NONE = a -> fixed(a, UNICAST);

    private AddrType() {
    }

    private static int fixed(int a, int otherwise) {
        if (a == 0 || a == -1) {
            return BROADCAST;
        }
        if ((a >>> 28) == 0xe) {
            return MULTICAST;
        }
        if ((a >>> 24) == 127) {
            return LOCAL;
        }
        return otherwise;
    }

    /**
     * A namespace's classes: its local and broadcast addresses, taken again when the namespace's address
     * generation moves (a change of addresses, not a packet, pays for it).
     */
    static final class OfNamespace implements Classifier {
        private record Addrs(long generation, int[] local, int[] broadcast) {
        }

        private final NetNamespace ns;
        private volatile Addrs addrs = new Addrs(Long.MIN_VALUE, new int[0], new int[0]);

        OfNamespace(NetNamespace ns) {
            this.ns = ns;
        }

        @Override
        public int type(int a) {
            int t = fixed(a, UNICAST);
            if (t != UNICAST) {
                return t;
            }
            Addrs s = addrs;
            long g = ns.addressGeneration();
            if (s.generation != g) {
                s = take(g);
                addrs = s;
            }
            for (int l : s.local) {
                if (l == a) {
                    return LOCAL;
                }
            }
            for (int b : s.broadcast) {
                if (b == a) {
                    return BROADCAST;
                }
            }
            return UNICAST;
        }

        private Addrs take(long g) {
            List<Integer> local = new ArrayList<>(), bcast = new ArrayList<>();
            for (NetDevice d : ns.devices()) {
                for (IfAddress ifa : d.addresses()) {
                    if (ifa.address() instanceof Inet4Address v4) {
                        local.add(java.nio.ByteBuffer.wrap(v4.getAddress()).getInt());
                        if (ifa.broadcast() instanceof Inet4Address b) {
                            bcast.add(java.nio.ByteBuffer.wrap(b.getAddress()).getInt());
                        }
                    }
                }
            }
            return new Addrs(g, local.stream().mapToInt(Integer::intValue).toArray(),
                    bcast.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    /** The match: each side's type mask, {@code ! } per side. */
    record Match(int srcMask, int dstMask, boolean srcInv, boolean dstInv, FilterTable table)
            implements org.modnet.netfilter.Match {
        @Override
        public boolean matches(SkBuff skb, int nh, int th, int p) {
            Classifier c = table != null ? table.addrType : NONE;
            if (srcMask != 0 && (((1 << c.type(skb.getU32(nh + 12))) & srcMask) != 0) == srcInv) {
                return false;
            }
            return dstMask == 0 || (((1 << c.type(skb.getU32(nh + 16))) & dstMask) != 0) != dstInv;
        }

        private static String names(int mask) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < NAMES.length; i++) {
                if ((mask & (1 << i)) != 0) {
                    b.append(b.isEmpty() ? "" : ",").append(NAMES[i]);
                }
            }
            return b.toString();
        }

        @Override
        public void save(StringBuilder b) {
            b.append(" -m addrtype");
            if (srcMask != 0) {
                b.append(srcInv ? " ! --src-type " : " --src-type ").append(names(srcMask));
            }
            if (dstMask != 0) {
                b.append(dstInv ? " ! --dst-type " : " --dst-type ").append(names(dstMask));
            }
        }

        @Override
        public void list(StringBuilder b, boolean numeric) {
            b.append(" ADDRTYPE match");
            if (srcMask != 0) {
                b.append(" src-type ").append(srcInv ? "!" : "").append(names(srcMask));
            }
            if (dstMask != 0) {
                b.append(" dst-type ").append(dstInv ? "!" : "").append(names(dstMask));
            }
        }
    }

    /** {@code LOCAL,UNICAST}: the mask, or libxt_addrtype's error. */
    static int parse(String list) {
        int m = 0;
        for (String w : list.split(",")) {
            int k = java.util.Arrays.asList(NAMES).indexOf(w.toUpperCase(java.util.Locale.ROOT));
            if (k < 0) {
                throw Iptables.syntax("addrtype: bad type \"" + w + "\"");
            }
            m |= 1 << k;
        }
        return m;
    }
}
