package org.modnet.drivers.vxlan;

import java.util.List;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;

/**
 * The words after {@code type vxlan}, as iproute2's {@code ip link add NAME type vxlan} takes them:
 * {@code id VNI} (required, 0..16777215), {@code remote ADDR}, {@code local ADDR}, {@code dstport PORT}
 * (Linux's default is 8472, not IANA's 4789: iproute2 warns; so does this README), {@code dev NAME} (the
 * underlay device, which must exist), {@code ttl N}, {@code learning}/{@code nolearning}.
 */
record VxlanConfig(int vni, int remote, int local, int dstport, String dev, int ttl, boolean learning) {
    /** {@code IANA_VXLAN_UDP_PORT} is 4789; Linux's {@code vxlan_port} default stays 8472. */
    static final int LINUX_DEFAULT_PORT = 8472;
    static final int VNI_MAX = (1 << 24) - 1;

    static VxlanConfig parse(NetNamespace ns, List<String> args) throws NetException {
        int vni = -1;
        int remote = 0;
        int local = 0;
        int dstport = LINUX_DEFAULT_PORT;
        String dev = null;
        int ttl = 0;
        boolean learning = true;
        for (int i = 0; i < args.size(); i++) {
            String w = args.get(i);
            switch (w) {
                case "learning" -> learning = true;
                case "nolearning" -> learning = false;
                case "id", "vni", "remote", "local", "dstport", "dev", "ttl" -> {
                    if (i + 1 >= args.size()) {
                        throw new NetException(Errno.EINVAL, "vxlan: \"" + w + "\" needs an argument");
                    }
                    String v = args.get(++i);
                    switch (w) {
                        case "id", "vni" -> vni = number(w, v, 0, VNI_MAX);
                        case "remote" -> remote = address(w, v);
                        case "local" -> local = address(w, v);
                        case "dstport" -> dstport = number(w, v, 0, 65535);
                        case "ttl" -> ttl = v.equals("inherit") || v.equals("auto") ? 0 : number(w, v, 1, 255);
                        default -> dev = v;
                    }
                }
                case "group" -> throw new NetException(Errno.EINVAL, "vxlan: multicast groups are not supported, use \"remote\"");
                default -> throw new NetException(Errno.EINVAL, "vxlan: unknown command \"" + w + "\"?");
            }
        }
        if (vni < 0) {
            throw new NetException(Errno.EINVAL, "vxlan: missing virtual network identifier");
        }
        if (dev != null && ns != null && ns.device(dev) == null) {
            throw new NetException(Errno.ENODEV, "Cannot find device \"" + dev + "\"");
        }
        return new VxlanConfig(vni, remote, local, dstport, dev, ttl, learning);
    }

    private static int number(String what, String v, int min, int max) throws NetException {
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new NetException(Errno.EINVAL, "vxlan: invalid " + what + " \"" + v + "\"");
    }

    /** A dotted IPv4 address as a host-order int. */
    static int address(String what, String v) throws NetException {
        String[] p = v.split("\\.");
        if (p.length != 4) {
            throw new NetException(Errno.EINVAL, "vxlan: invalid address \"" + v + "\" for " + what);
        }
        int a = 0;
        for (String s : p) {
            int b;
            try {
                b = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                b = -1;
            }
            if (b < 0 || b > 255) {
                throw new NetException(Errno.EINVAL, "vxlan: invalid address \"" + v + "\" for " + what);
            }
            a = a << 8 | b;
        }
        return a;
    }
}
