package org.modnet.api.inet;

import java.net.Inet4Address;
import java.util.Arrays;

import org.modnet.api.net.Eth;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;

/** The IPv4 addresses of interfaces, as the layers above need them: as ints, local sets, source choice. */
public final class Ipv4Addresses {
    private Ipv4Addresses() {
    }

    /** An IPv4 address as an int in network order. */
    public static int toInt(Inet4Address a) {
        byte[] b = a.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    /** Dotted-quad text of an address held as an int: {@code 10.0.0.1}. */
    public static String format(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
    }

    /**
     * A strict dotted quad (four decimal parts, each 0..255) as an int, or -1L when the text is not one.
     * No name service is asked, ever.
     */
    public static long parse(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return -1;
        }
        long a = 0;
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return -1;
            }
            int v = Integer.parseInt(p);
            if (v > 255) {
                return -1;
            }
            a = a << 8 | v;
        }
        return a;
    }

    /** The prefix mask of a length: {@code 24} is {@code 0xffffff00}. */
    public static int mask(int prefixLen) {
        return prefixLen == 0 ? 0 : -1 << (32 - prefixLen);
    }

    /** Every IPv4 address on the namespace's interfaces, sorted (for binary search). */
    public static int[] local(NetNamespace ns) {
        int[] all = new int[0];
        for (NetDevice dev : ns.devices()) {
            for (IfAddress a : dev.addresses()) {
                if (a.address() instanceof Inet4Address v4) {
                    all = Arrays.copyOf(all, all.length + 1);
                    all[all.length - 1] = toInt(v4);
                }
            }
        }
        Arrays.sort(all);
        return all;
    }

    /**
     * {@code inet_select_addr}: a source for packets leaving {@code dev} toward {@code near}: an
     * address of the device in the same subnet, else its first, else (if {@code anyInNamespace}) one of
     * another non-loopback device of the namespace; 0 if there is none.
     */
    public static int select(NetDevice dev, int near, boolean anyInNamespace) {
        int first = 0;
        for (IfAddress a : dev.addresses()) {
            if (a.address() instanceof Inet4Address v4) {
                int addr = toInt(v4);
                if ((addr & mask(a.prefixLen())) == (near & mask(a.prefixLen()))) {
                    return addr;
                }
                if (first == 0) {
                    first = addr;
                }
            }
        }
        if (first != 0 || !anyInNamespace) {
            return first;
        }
        for (NetDevice other : dev.namespace().devices()) {
            if (other.type() == Eth.ARPHRD_LOOPBACK) {
                continue;
            }
            for (IfAddress a : other.addresses()) {
                if (a.address() instanceof Inet4Address v4) {
                    return toInt(v4);
                }
            }
        }
        return 0;
    }
}
