package org.modnet.shell.net;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

import org.modnet.api.net.Eth;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/**
 * {@code ip maddress}, as iproute2's {@code ipmaddr.c} prints Linux's multicast lists: for each device
 * its link-layer entries ({@code /proc/net/dev_mcast}) and its IPv4 groups ({@code /proc/net/igmp}).
 * Linux joins the all-hosts group 224.0.0.1 on every device that is up ({@code ip_mc_up}), and maps it
 * to 01:00:5e:00:00:01 on an Ethernet device ({@code ip_eth_mc_map}); {@code ip maddr add/del} adds or
 * removes a static link-layer address ({@code SIOCADDMULTI}). modnet's receive path takes every
 * multicast frame whatever the list holds, so the static entries are what {@code ip maddr} shows.
 */
final class IpMaddr {
    static final String USAGE = """
            Usage: ip maddr [ add | del ] MULTIADDR dev STRING
                   ip maddr show [ dev STRING ]""";

    /** Linux's all-hosts group and its Ethernet mapping. */
    static final String ALL_HOSTS = "224.0.0.1";
    static final String ALL_HOSTS_MAC = "01:00:5e:00:00:01";

    /** The static link-layer entries per device, in the order added; a device's bound, as Linux's has its memory. */
    private static final Map<NetDevice, List<String>> STATIC = Collections.synchronizedMap(new WeakHashMap<>());
    static final int MAX_STATIC = 64;

    private final Invocation inv;
    private final NetNamespace ns;
    private final boolean ipv4;

    /** {@code ipv4}: the IPv4 layer runs, whose all-hosts group each device that is up joins. */
    IpMaddr(Invocation inv, NetNamespace ns, boolean ipv4) {
        this.inv = inv;
        this.ns = ns;
        this.ipv4 = ipv4;
    }

    void run(List<String> words) {
        if (words.isEmpty()) {
            show(List.of());
            return;
        }
        String cmd = words.get(0);
        List<String> rest = words.subList(1, words.size());
        if (Iproute.matches(cmd, "add")) {
            modify(rest, true);
        } else if (Iproute.matches(cmd, "delete")) {
            modify(rest, false);
        } else if (Iproute.matches(cmd, "list") || Iproute.matches(cmd, "show") || Iproute.matches(cmd, "lst")) {
            show(rest);
        } else if (Iproute.matches(cmd, "help")) {
            throw new CommandException(USAGE, Iproute.SYNTAX);
        } else {
            throw new CommandException("Command \"" + cmd + "\" is unknown, try \"ip maddr help\".", Iproute.SYNTAX);
        }
    }

    /** {@code show [dev] NAME}: a name that is no device shows nothing, as iproute2's filter by name. */
    private void show(List<String> args) {
        String filter = null;
        for (int i = 0; i < args.size(); i++) {
            String w = args.get(i);
            if (w.equals("dev")) {
                if (++i >= args.size()) {
                    throw Iproute.incomplete();
                }
                w = args.get(i);
            } else if (Iproute.matches(w, "help")) {
                throw new CommandException(USAGE, Iproute.SYNTAX);
            }
            if (filter != null) {
                throw Iproute.duparg2("dev", w);
            }
            filter = w;
        }
        List<NetDevice> devices = new ArrayList<>(ns.devices());
        devices.sort(Comparator.comparingInt(NetDevice::ifindex));
        StringBuilder b = new StringBuilder();
        for (NetDevice d : devices) {
            if (filter != null && !filter.equals(d.name())) {
                continue;
            }
            List<String> lines = entries(d);
            if (lines.isEmpty()) {
                continue; // no list: the device is in neither file
            }
            b.append(d.ifindex()).append(":\t").append(d.name()).append('\n');
            lines.forEach(l -> b.append('\t').append(l).append('\n'));
        }
        inv.out().print(b);
    }

    /** One device's lines: link entries, then IPv4 groups. */
    private List<String> entries(NetDevice d) {
        List<String> lines = new ArrayList<>();
        boolean up = (d.flags() & IfFlags.UP) != 0;
        boolean allHosts = ipv4 && up;
        if (allHosts && d.type() == Eth.ARPHRD_ETHER) {
            lines.add("link  " + ALL_HOSTS_MAC);
        }
        List<String> statics = STATIC.get(d);
        if (statics != null) {
            synchronized (statics) {
                statics.forEach(a -> lines.add("link  " + a + " static"));
            }
        }
        if (allHosts) {
            lines.add("inet  " + ALL_HOSTS);
        }
        return lines;
    }

    /** {@code add|del LLADDR dev NAME}: SIOCADDMULTI/SIOCDELMULTI's answers. */
    private void modify(List<String> args, boolean add) {
        String dev = null;
        String addr = null;
        for (int i = 0; i < args.size(); i++) {
            String w = args.get(i);
            if (w.equals("dev")) {
                if (++i >= args.size()) {
                    throw Iproute.incomplete();
                }
                dev = args.get(i);
            } else if (Iproute.matches(w, "help")) {
                throw new CommandException(USAGE, Iproute.SYNTAX);
            } else {
                if (addr != null) {
                    throw Iproute.duparg2("to", w);
                }
                addr = w;
            }
        }
        if (addr == null || dev == null) {
            throw new CommandException("Not enough information: \"dev\" is required.", Iproute.SYNTAX);
        }
        String mac = lladdr(addr);
        NetDevice d = ns.device(dev);
        if (d == null) {
            throw new CommandException("ioctl: No such device", Iproute.FAILED);
        }
        List<String> statics = STATIC.computeIfAbsent(d, k -> new ArrayList<>());
        synchronized (statics) {
            if (add) {
                if (!statics.contains(mac)) {
                    if (statics.size() >= MAX_STATIC) {
                        throw new CommandException("ioctl: No space left on device", Iproute.FAILED);
                    }
                    statics.add(mac);
                }
            } else if (!statics.remove(mac)) {
                throw new CommandException("ioctl: No such file or directory", Iproute.FAILED);
            }
        }
    }

    /** A link-layer address as {@code ll_addr_a2n} reads it; a dotted IPv4 address is four bytes, not six. */
    private static String lladdr(String text) {
        if (text.contains(".")) {
            throw new CommandException("Error: Invalid address length 4 - must be 6 bytes", Iproute.FAILED);
        }
        String[] parts = text.split(":", -1);
        if (parts.length != 6) {
            throw new CommandException("Error: Invalid address length " + parts.length + " - must be 6 bytes", Iproute.FAILED);
        }
        StringBuilder b = new StringBuilder();
        for (String p : parts) {
            int v;
            try {
                v = Integer.parseInt(p, 16);
            } catch (NumberFormatException e) {
                v = -1;
            }
            if (p.isEmpty() || p.length() > 2 || v < 0) {
                throw new CommandException("\"" + text + "\" is invalid lladdr.", Iproute.FAILED);
            }
            b.append(b.length() == 0 ? "" : ":").append(String.format("%02x", v));
        }
        return b.toString();
    }
}
