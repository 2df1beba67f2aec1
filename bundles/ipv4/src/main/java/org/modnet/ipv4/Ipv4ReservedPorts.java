package org.modnet.ipv4;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;

/**
 * {@code net.ipv4.ip_local_reserved_ports}: a bitmap of the 65536 ports that an ephemeral port choice
 * skips ({@code inet_is_local_reserved_port}). Written and read as {@code proc_do_large_bitmap} does:
 * ports and ranges separated by commas ({@code 8080,9000-9010}); a write replaces the whole set. The
 * bitmap is replaced whole, so a reader sees the old set or the new one.
 */
final class Ipv4ReservedPorts {
    private volatile long[] bits = new long[1024];

    boolean reserved(int port) {
        return port >= 0 && port < 65536 && (bits[port >>> 6] & (1L << port)) != 0;
    }

    /** Parses a write; EINVAL for anything but ports and ranges in 0..65535. Returns the text as Linux prints it. */
    String parse(String text) throws NetException {
        long[] next = new long[1024];
        String t = text.strip();
        if (!t.isEmpty()) {
            for (String part : t.split(",")) {
                String p = part.strip();
                int dash = p.indexOf('-');
                int lo = port(dash < 0 ? p : p.substring(0, dash));
                int hi = dash < 0 ? lo : port(p.substring(dash + 1));
                if (hi < lo) {
                    throw new NetException(Errno.EINVAL);
                }
                for (int i = lo; i <= hi; i++) {
                    next[i >>> 6] |= 1L << i;
                }
            }
        }
        bits = next;
        return text(next);
    }

    private static int port(String s) throws NetException {
        try {
            int v = Integer.parseInt(s.strip());
            if (v < 0 || v > 65535) {
                throw new NetException(Errno.EINVAL);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new NetException(Errno.EINVAL);
        }
    }

    /** The ranges as {@code proc_do_large_bitmap} prints them: {@code 8080,9000-9010}. */
    private static String text(long[] b) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < 65536) {
            if ((b[i >>> 6] & (1L << i)) == 0) {
                i++;
                continue;
            }
            int start = i;
            while (i + 1 < 65536 && (b[(i + 1) >>> 6] & (1L << (i + 1))) != 0) {
                i++;
            }
            out.append(out.isEmpty() ? "" : ",").append(start);
            if (i > start) {
                out.append('-').append(i);
            }
            i++;
        }
        return out.toString();
    }
}
