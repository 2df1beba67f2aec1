package org.modnet.shell.net;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.modnet.api.net.Errno;
import org.modnet.api.net.IfFlags;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.RingParams;
import org.modnet.api.shell.CommandException;

/**
 * {@code ethtool}: link settings, driver, rings, channels, offload features and driver counters of a
 * device in the session's namespace, with ethtool's words and exit statuses (71 driver, 75 settings,
 * 76/80/81 rings, 82 coalescing, 94/96 statistics, 1 for the rest and for bad arguments).
 */
final class EthtoolCommand {
    static final String BAD_ARGS = "ethtool: bad command line argument(s)\nFor more information run ethtool -h";

    static final String USAGE = """
            ethtool version 6.1 (modnet)
            Usage:
                    ethtool [ FLAGS ] DEVNAME\tDisplay standard information about device
                    ethtool [ FLAGS ] -a|--show-pause DEVNAME\tShow pause options
                    ethtool [ FLAGS ] -c|--show-coalesce DEVNAME\tShow coalesce options
                    ethtool [ FLAGS ] -g|--show-ring DEVNAME\tQuery RX/TX ring parameters
                    ethtool [ FLAGS ] -G|--set-ring DEVNAME\tSet RX/TX ring parameters
                            [ rx N ]
                            [ rx-mini N ]
                            [ rx-jumbo N ]
                            [ tx N ]
                    ethtool [ FLAGS ] -k|--show-features|--show-offload DEVNAME\tGet state of protocol offload and other features
                    ethtool [ FLAGS ] -K|--features|--offload DEVNAME\tSet protocol offload and other features
                            FEATURE on|off ...
                    ethtool [ FLAGS ] -i|--driver DEVNAME\tShow driver information
                    ethtool [ FLAGS ] -S|--statistics DEVNAME\tShow adapter statistics
                    ethtool [ FLAGS ] -l|--show-channels DEVNAME\tQuery Channels
                    ethtool [ FLAGS ] -L|--set-channels DEVNAME\tSet Channels
                            [ rx N ]
                            [ tx N ]
                            [ other N ]
                            [ combined N ]
                    ethtool [ FLAGS ] -h|--help\t\tShow this help
                    ethtool [ FLAGS ] --version\t\tShow version number""";

    /** ethtool's legacy offload flags: short name, the name {@code -k} shows, the kernel's feature name. */
    private record Offload(String shortName, String longName, String kernelName) {
    }

    private static final List<Offload> OFFLOADS = List.of(
            new Offload("rx", "rx-checksumming", "rx-checksum"),
            new Offload("tx", "tx-checksumming", "tx-checksum-ip-generic"),
            new Offload("sg", "scatter-gather", "tx-scatter-gather"),
            new Offload("tso", "tcp-segmentation-offload", "tx-tcp-segmentation"),
            new Offload("ufo", "udp-fragmentation-offload", "tx-udp-fragmentation"),
            new Offload("gso", "generic-segmentation-offload", "tx-generic-segmentation"),
            new Offload("gro", "generic-receive-offload", "rx-gro"),
            new Offload("lro", "large-receive-offload", "rx-lro"),
            new Offload("rxvlan", "rx-vlan-offload", "rx-vlan-hw-parse"),
            new Offload("txvlan", "tx-vlan-offload", "tx-vlan-hw-insert"),
            new Offload("ntuple", "ntuple-filters", "rx-ntuple-filter"),
            new Offload("rxhash", "receive-hashing", "rx-hashing"));

    /** The parameters {@code -G}, {@code -L}, {@code -C} and {@code -A} take, as ethtool 6.1 parses them. */
    private static final Map<String, ParamType> RING_PARAMS = params(ParamType.U32, List.of("rx", "rx-mini", "rx-jumbo", "tx"));
    private static final Map<String, ParamType> CHANNEL_PARAMS = params(ParamType.U32, List.of("rx", "tx", "other", "combined"));
    private static final Map<String, ParamType> COALESCE_PARAMS = new LinkedHashMap<>();
    static {
        COALESCE_PARAMS.putAll(params(ParamType.BOOL, List.of("adaptive-rx", "adaptive-tx")));
        COALESCE_PARAMS.putAll(params(ParamType.U32, List.of("sample-interval", "stats-block-usecs",
                "pkt-rate-low", "pkt-rate-high", "rx-usecs", "rx-frames", "rx-usecs-irq", "rx-frames-irq", "tx-usecs",
                "tx-frames", "tx-usecs-irq", "tx-frames-irq", "rx-usecs-low", "rx-frames-low", "tx-usecs-low",
                "tx-frames-low", "rx-usecs-high", "rx-frames-high", "tx-usecs-high", "tx-frames-high")));
    }
    private static final Map<String, ParamType> PAUSE_PARAMS = params(ParamType.BOOL, List.of("autoneg", "rx", "tx"));

    private final Invocation inv;

    EthtoolCommand(Invocation inv) {
        this.inv = inv;
    }

    void run(List<String> words) {
        if (words.isEmpty()) {
            throw badArgs();
        }
        String first = words.get(0);
        if (first.equals("-h") || first.equals("--help")) {
            inv.out().println(USAGE);
            return;
        }
        if (first.equals("--version")) {
            inv.out().println("ethtool version 6.1 (modnet)");
            return;
        }
        String mode = first.startsWith("-") ? mode(first) : "";
        int devAt = mode.isEmpty() ? 0 : 1;
        if (words.size() <= devAt) {
            throw badArgs();
        }
        String devName = words.get(devAt);
        List<String> rest = words.subList(devAt + 1, words.size());
        NetNamespace ns = inv.namespace("ethtool");
        NetDevice dev = ns.device(devName);
        if (dev != null && "loopback".equals(dev.kind())) {
            loopbackRefuses(mode); // Linux's loopback has no ethtool_ops beyond the link and features
        }
        switch (mode) {
            case "" -> settings(devName, dev, rest);
            case "-i" -> driver(dev, rest);
            case "-g" -> showRing(devName, dev, rest);
            case "-G" -> setRing(devName, dev, rest);
            case "-k" -> showFeatures(devName, dev, rest);
            case "-K" -> setFeatures(devName, dev, rest);
            case "-S" -> statistics(dev, rest);
            case "-l" -> showChannels(devName, dev, rest);
            case "-L" -> setChannels(devName, dev, rest);
            case "-c" -> showCoalesce(dev, rest);
            case "-C" -> setCoalesce(dev, rest);
            case "-a" -> showPause(dev, rest);
            case "-A" -> setPause(dev, rest);
            default -> throw badArgs();
        }
    }

    /** The short option a long or short option names, or a bad-arguments error. */
    private static String mode(String option) {
        return switch (option) {
            case "-i", "--driver" -> "-i";
            case "-g", "--show-ring" -> "-g";
            case "-G", "--set-ring" -> "-G";
            case "-k", "--show-features", "--show-offload" -> "-k";
            case "-K", "--features", "--offload" -> "-K";
            case "-S", "--statistics" -> "-S";
            case "-l", "--show-channels" -> "-l";
            case "-L", "--set-channels" -> "-L";
            case "-c", "--show-coalesce" -> "-c";
            case "-C", "--coalesce" -> "-C";
            case "-a", "--show-pause" -> "-a";
            case "-A", "--pause" -> "-A";
            default -> throw badArgs();
        };
    }

    static CommandException badArgs() {
        return new CommandException(BAD_ARGS, 1);
    }

    private static void noArgs(List<String> rest) {
        if (!rest.isEmpty()) {
            throw badArgs();
        }
    }

    /** {@code perror(what)} for the errno the missing device or unsupported operation gives. */
    private static CommandException perror(String what, Errno errno, int status) {
        return new CommandException(what + ": " + errno.text(), status);
    }

    /**
     * What Linux's lo answers: no driver information, rings, channels or statistics (its
     * {@code ethtool_ops} has only {@code get_link}, {@code get_ts_info} and the link settings).
     */
    private static void loopbackRefuses(String mode) {
        switch (mode) {
            case "-i" -> throw perror("Cannot get driver information", Errno.EOPNOTSUPP, 71);
            case "-S" -> throw new CommandException("no stats available", 94);
            case "-g", "-l" -> throw netlinkError(null, -1, Errno.EOPNOTSUPP, 1);
            default -> {
            }
        }
    }

    // --- ethtool DEV ---

    private void settings(String name, NetDevice dev, List<String> rest) {
        noArgs(rest);
        var out = inv.out();
        if (dev == null) {
            // ethtool 6.1 asks five netlink requests (link info, modes, wake-on-lan, debug, link state), each refused
            out.println("No data available");
            String refused = noDevice(75).getMessage();
            throw new CommandException(String.join("\n", java.util.Collections.nCopies(5, refused)), 75);
        }
        out.println("Settings for " + name + ":");
        if (!"loopback".equals(dev.kind())) {
            // what veth_get_link_ksettings reports for a software Ethernet device
            out.println("\tSupported ports: [ ]");
            out.println("\tSupported link modes:   Not reported");
            out.println("\tSupported pause frame use: No");
            out.println("\tSupports auto-negotiation: No");
            out.println("\tAdvertised link modes:  Not reported");
            out.println("\tAdvertised pause frame use: No");
            out.println("\tAdvertised auto-negotiation: No");
            out.println("\tSpeed: 10000Mb/s");
            out.println("\tDuplex: Full");
            out.println("\tPort: Twisted Pair");
            out.println("\tPHYAD: 0");
            out.println("\tTransceiver: internal");
            out.println("\tAuto-negotiation: off");
            out.println("\tMDI-X: Unknown");
        }
        boolean link = "loopback".equals(dev.kind()) || (dev.flags() & IfFlags.LOWER_UP) != 0;
        out.println("\tLink detected: " + (link ? "yes" : "no"));
    }

    // --- -i ---

    private void driver(NetDevice dev, List<String> rest) {
        noArgs(rest);
        if (dev == null) {
            throw perror("Cannot get driver information", Errno.ENODEV, 71);
        }
        Map<String, String> info = dev.driverInfo();
        if (info == null || info.isEmpty()) {
            throw perror("Cannot get driver information", Errno.EOPNOTSUPP, 71);
        }
        var out = inv.out();
        out.println("driver: " + info.getOrDefault("driver", ""));
        out.println("version: " + info.getOrDefault("version", ""));
        out.println("firmware-version: " + info.getOrDefault("firmware-version", ""));
        out.println("expansion-rom-version: " + info.getOrDefault("expansion-rom-version", ""));
        out.println("bus-info: " + info.getOrDefault("bus-info", ""));
        out.println("supports-statistics: " + yesNo(!dev.ethtoolStats().isEmpty()));
        out.println("supports-test: no");
        out.println("supports-eeprom-access: no");
        out.println("supports-register-dump: no");
        out.println("supports-priv-flags: no");
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }

    // --- -g, -G ---

    private void showRing(String name, NetDevice dev, List<String> rest) {
        noArgs(rest);
        if (dev == null) {
            throw noDevice(1);
        }
        var out = inv.out();
        out.println("Ring parameters for " + name + ":");
        RingParams r = dev.ringParams();
        // a ring the device does not have (maximum 0) is not reported: n/a, as ethtool's netlink output
        out.println("Pre-set maximums:");
        out.println("RX:\t\t" + count(r.rxMax(), r.rxMax()));
        out.println("RX Mini:\tn/a");
        out.println("RX Jumbo:\tn/a");
        out.println("TX:\t\t" + count(r.txMax(), r.txMax()));
        out.println("Current hardware settings:");
        out.println("RX:\t\t" + count(r.rxMax(), r.rx()));
        out.println("RX Mini:\tn/a");
        out.println("RX Jumbo:\tn/a");
        out.println("TX:\t\t" + count(r.txMax(), r.tx()));
    }

    private static String count(int max, int value) {
        return max == 0 ? "n/a" : Integer.toString(value);
    }

    /** How ethtool 6.1's {@code nl_parser} reads a parameter's value: a u32, or {@code on|off} (as 1 or 0). */
    private enum ParamType {
        U32, BOOL;

        /** The value {@code word} stands for, or null when it is not one of this type. */
        Long read(String word) {
            return this == U32 ? u32(word) : word.equals("on") ? Long.valueOf(1) : word.equals("off") ? Long.valueOf(0) : null;
        }
    }

    /**
     * ethtool 6.1's netlink parser ({@code nl_parser}) over NAME VALUE pairs for {@code opt}: a name
     * {@code params} has not, a name without a value and a value not of its name's type are refused in its
     * words, status 1, before anything is asked of the kernel. The names keep the order they were given in:
     * the request's attributes do, and an error's offset names one of them.
     */
    private static Map<String, Long> netlinkParams(String opt, List<String> rest, Map<String, ParamType> params) {
        Map<String, Long> wanted = new LinkedHashMap<>();
        for (int i = 0; i < rest.size(); i += 2) {
            String key = rest.get(i);
            ParamType type = params.get(key);
            if (type == null) {
                throw new CommandException("ethtool (" + opt + "): unknown parameter '" + key + "'", 1);
            }
            if (i + 1 >= rest.size()) {
                throw new CommandException("ethtool (" + opt + "): no value for parameter '" + key + "'", 1);
            }
            Long v = type.read(rest.get(i + 1));
            if (v == null) {
                throw new CommandException("ethtool (" + opt + "): invalid value '" + rest.get(i + 1) + "' for parameter '" + key + "'", 1);
            }
            wanted.put(key, v);
        }
        return wanted;
    }

    /** Parameters named {@code names}, each of type {@code type}, in the order given. */
    private static Map<String, ParamType> params(ParamType type, List<String> names) {
        Map<String, ParamType> params = new LinkedHashMap<>();
        names.forEach(n -> params.put(n, type));
        return params;
    }

    /** A u32 as ethtool reads one (decimal, {@code 0x} hex or {@code 0} octal), or null. */
    private static Long u32(String s) {
        try {
            long v = Long.decode(s);
            return v >= 0 && v <= 0xffffffffL ? v : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * The lines ethtool prints for a netlink request the kernel refused: the extended ACK's message with the
     * offset of the attribute it names (when it names one), then the errno's text.
     */
    private static CommandException netlinkError(String message, int offset, Errno errno, int status) {
        String first = message == null ? "" : "netlink error: " + message + (offset < 0 ? "" : " (offset " + offset + ")") + "\n";
        return new CommandException(first + "netlink error: " + errno.text(), status);
    }

    /** {@code ethnl_parse_header_dev_get}'s refusal of a name no device has: the offset is the header's name attribute's. */
    private static CommandException noDevice(int status) {
        return netlinkError("no device matches name", NLMSG_GENL_HDRLEN + NLA_HDRLEN, Errno.ENODEV, status);
    }

    /** {@code struct nlmsghdr} and {@code struct genlmsghdr}, and an attribute's header: the request's fixed bytes. */
    private static final int NLMSG_GENL_HDRLEN = 16 + 4;
    private static final int NLA_HDRLEN = 4;

    /**
     * The offset in ethtool's request of the {@code index}-th parameter's attribute (a u32 each): after the
     * netlink and genetlink headers and the request header's nest holding the device's name.
     */
    private static int attrOffset(String devName, List<String> given, String key) {
        int index = given.indexOf(key);
        if (index < 0) {
            return -1; // the kernel blames an attribute the request does not have: no offset
        }
        return NLMSG_GENL_HDRLEN + NLA_HDRLEN + nameAttrLen(devName) + index * (NLA_HDRLEN + 4);
    }

    /** The length of the request header's {@code ETHTOOL_A_HEADER_DEV_NAME} attribute: the name, its NUL, padded. */
    private static int nameAttrLen(String devName) {
        return nlaAligned(devName.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1);
    }

    /**
     * {@code ethtool -G} over netlink ({@code ethnl_set_rings}): a device without rings refuses whatever was
     * asked; nothing changed is no request at all (status 0, nothing printed); a size past the maximum is
     * refused naming its attribute; then the driver sets them (modnet's rings cannot be 0: EINVAL, as
     * drivers refuse it). Errors exit 81, as ethtool's {@code nl_sring}.
     */
    private void setRing(String devName, NetDevice dev, List<String> rest) {
        Map<String, Long> wanted = netlinkParams("-G", rest, RING_PARAMS);
        if (dev == null) {
            throw noDevice(81);
        }
        RingParams now = dev.ringParams();
        if ("loopback".equals(dev.kind()) || now.rxMax() == 0 && now.txMax() == 0) {
            throw netlinkError(null, -1, Errno.EOPNOTSUPP, 81);
        }
        Map<String, Long> current = Map.of("rx", (long) now.rx(), "rx-mini", 0L, "rx-jumbo", 0L, "tx", (long) now.tx());
        Map<String, Long> max = Map.of("rx", (long) now.rxMax(), "rx-mini", 0L, "rx-jumbo", 0L, "tx", (long) now.txMax());
        if (wanted.entrySet().stream().allMatch(e -> e.getValue().equals(current.get(e.getKey())))) {
            return;
        }
        List<String> given = List.copyOf(wanted.keySet());
        for (String key : List.of("rx", "rx-mini", "rx-jumbo", "tx")) {
            if (wanted.getOrDefault(key, current.get(key)) > max.get(key)) {
                throw netlinkError("requested ring size exceeds maximum", attrOffset(devName, given, key), Errno.EINVAL, 81);
            }
        }
        int rx = (int) (long) wanted.getOrDefault("rx", current.get("rx"));
        int tx = (int) (long) wanted.getOrDefault("tx", current.get("tx"));
        try {
            if (rx == 0 && now.rxMax() != 0 || tx == 0 && now.txMax() != 0) {
                throw new NetException(Errno.EINVAL);
            }
            dev.setRingParams(rx == now.rx() ? 0 : rx, tx == now.tx() ? 0 : tx);
        } catch (NetException e) {
            throw netlinkError(null, -1, e.errno(), 81);
        }
    }

    // --- -k, -K ---

    /**
     * ethtool 6.1's {@code -k} lines as it prints them over Linux 6.18's feature names: a legacy name
     * heading the kernel features it stands for (indented under it), then every other feature in the
     * kernel's bit order. A feature the device does not have is off and fixed, as on Linux.
     */
    private static final List<List<String>> FEATURE_LINES = List.of(List.of("rx-checksumming"),
            List.of("tx-checksumming", "tx-checksum-ipv4", "tx-checksum-ip-generic", "tx-checksum-ipv6", "tx-checksum-fcoe-crc",
                    "tx-checksum-sctp"),
            List.of("scatter-gather", "tx-scatter-gather", "tx-scatter-gather-fraglist"),
            List.of("tcp-segmentation-offload", "tx-tcp-segmentation", "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation",
                    "tx-tcp6-segmentation", "tx-tcp-accecn-segmentation"));
    private static final List<String> OTHER_FEATURES = List.of(
            "generic-segmentation-offload", "generic-receive-offload", "large-receive-offload", "rx-vlan-offload",
            "tx-vlan-offload", "ntuple-filters", "receive-hashing", "highdma", "rx-vlan-filter", "vlan-challenged",
            "tx-gso-robust", "tx-fcoe-segmentation", "tx-gre-segmentation", "tx-gre-csum-segmentation",
            "tx-ipxip4-segmentation", "tx-ipxip6-segmentation", "tx-udp_tnl-segmentation",
            "tx-udp_tnl-csum-segmentation", "tx-gso-partial", "tx-tunnel-remcsum-segmentation", "tx-sctp-segmentation",
            "tx-esp-segmentation", "tx-udp-segmentation", "tx-gso-list", "tx-nocache-copy", "loopback", "rx-fcs",
            "rx-all", "tx-vlan-stag-hw-insert", "rx-vlan-stag-hw-parse", "rx-vlan-stag-filter", "l2-fwd-offload",
            "hw-tc-offload", "esp-hw-offload", "esp-tx-csum-hw-offload", "rx-udp_tunnel-port-offload",
            "tls-hw-tx-offload", "tls-hw-rx-offload", "rx-gro-hw", "tls-hw-record", "rx-gro-list", "macsec-hw-offload",
            "rx-udp-gro-forwarding", "hsr-tag-ins-offload", "hsr-tag-rm-offload", "hsr-fwd-offload", "hsr-dup-offload");

    /** The kernel features a modnet device keeps under the legacy name of their group. */
    private static final Map<String, String> BY_LEGACY_NAME = Map.of("tx-checksum-ip-generic", "tx-checksumming",
            "tx-scatter-gather", "scatter-gather", "tx-tcp-segmentation", "tcp-segmentation-offload");

    private void showFeatures(String name, NetDevice dev, List<String> rest) {
        noArgs(rest);
        if (dev == null) {
            throw noDevice(1);
        }
        Map<String, Boolean> features = dev.features();
        long bits = dev.netdevFeatures();
        java.util.Set<String> fixed = dev.fixedFeatures();
        java.util.Set<String> shown = new java.util.HashSet<>();
        StringBuilder b = new StringBuilder("Features for " + name + ":\n");
        for (List<String> group : FEATURE_LINES) {
            if (group.size() == 1) {
                b.append(featureLine(group.get(0), features, bits, fixed, shown));
                continue;
            }
            // a legacy name over several features: on if any is, never marked fixed, as ethtool prints it
            StringBuilder children = new StringBuilder();
            boolean any = false;
            for (String k : group.subList(1, group.size())) {
                String own = BY_LEGACY_NAME.getOrDefault(k, k);
                any |= active(own, features, bits);
                children.append('\t').append(featureLine(k, features, bits, fixed, shown));
            }
            b.append(group.get(0)).append(": ").append(onOff(any)).append('\n').append(children);
        }
        for (String k : OTHER_FEATURES) {
            b.append(featureLine(k, features, bits, fixed, shown));
        }
        for (Map.Entry<String, Boolean> f : new TreeMap<>(features).entrySet()) {
            if (!shown.contains(f.getKey())) { // a feature of modnet's own, after Linux's
                b.append(f.getKey()).append(": ").append(onOff(f.getValue())).append(fixed.contains(f.getKey()) ? " [fixed]" : "").append('\n');
            }
        }
        inv.out().print(b);
    }

    /** {@code NAME: on|off[ [fixed]]}: the device's state of the feature, or off and fixed when it has none. */
    private static String featureLine(String kernelName, Map<String, Boolean> features, long bits, java.util.Set<String> fixed,
            java.util.Set<String> shown) {
        String own = BY_LEGACY_NAME.getOrDefault(kernelName, kernelName);
        Boolean on = features.get(own);
        shown.add(own);
        boolean isFixed = on == null || fixed.contains(own);
        boolean active = active(own, features, bits);
        return kernelName + ": " + onOff(active) + (isFixed ? " [fixed]" : on && !active ? " [requested on]" : "") + "\n";
    }

    /**
     * Whether modnet's feature {@code own} is in effect, not only asked for: {@code netdev_fix_features}
     * drops TCP segmentation without scatter-gather and transmit checksumming, UDP segmentation without
     * checksumming (and a driver may drop more: a veth under native XDP), which ethtool shows as
     * {@code off [requested on]}.
     */
    private static boolean active(String own, Map<String, Boolean> features, long bits) {
        if (!Boolean.TRUE.equals(features.get(own))) {
            return false;
        }
        return switch (own) {
            case "tcp-segmentation-offload" -> (bits & org.modnet.api.net.NetdevFeatures.NETIF_F_TSO) != 0;
            case "tx-udp-segmentation" -> (bits & org.modnet.api.net.NetdevFeatures.NETIF_F_GSO_UDP_L4) != 0;
            default -> true;
        };
    }

    private static String onOff(Boolean on) {
        return Boolean.TRUE.equals(on) ? "on" : "off";
    }

    /**
     * Linux 6.18's feature names in the kernel's bit order ({@code netdev_features_strings} by
     * {@code NETIF_F_*_BIT}): the order of ethtool's "Actual changes", and every name {@code -K} takes.
     */
    private static final List<String> KERNEL_FEATURES = List.of("tx-scatter-gather", "tx-checksum-ipv4", "tx-checksum-ip-generic",
            "tx-checksum-ipv6", "highdma", "tx-scatter-gather-fraglist", "tx-vlan-hw-insert", "rx-vlan-hw-parse", "rx-vlan-filter",
            "vlan-challenged", "tx-generic-segmentation", "rx-gro", "rx-lro", "tx-tcp-segmentation", "tx-gso-robust",
            "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation", "tx-tcp-accecn-segmentation",
            "tx-fcoe-segmentation", "tx-gre-segmentation", "tx-gre-csum-segmentation", "tx-ipxip4-segmentation",
            "tx-ipxip6-segmentation", "tx-udp_tnl-segmentation", "tx-udp_tnl-csum-segmentation", "tx-gso-partial",
            "tx-tunnel-remcsum-segmentation", "tx-sctp-segmentation", "tx-esp-segmentation", "tx-udp-segmentation", "tx-gso-list",
            "tx-checksum-fcoe-crc", "tx-checksum-sctp", "rx-ntuple-filter", "rx-hashing", "rx-checksum", "tx-nocache-copy", "loopback",
            "rx-fcs", "rx-all", "tx-vlan-stag-hw-insert", "rx-vlan-stag-hw-parse", "rx-vlan-stag-filter", "l2-fwd-offload",
            "hw-tc-offload", "esp-hw-offload", "esp-tx-csum-hw-offload", "rx-udp_tunnel-port-offload", "tls-hw-tx-offload",
            "tls-hw-rx-offload", "rx-gro-hw", "tls-hw-record", "rx-gro-list", "macsec-hw-offload", "rx-udp-gro-forwarding",
            "hsr-tag-ins-offload", "hsr-tag-rm-offload", "hsr-fwd-offload", "hsr-dup-offload");

    /** modnet's key in {@link NetDevice#features()} for the kernel's feature {@code kernel}: a legacy name where it keeps one. */
    private static String ownKey(String kernel) {
        String own = BY_LEGACY_NAME.get(kernel);
        if (own != null) {
            return own;
        }
        for (Offload o : OFFLOADS) {
            if (o.kernelName().equals(kernel)) {
                return o.longName();
            }
        }
        return kernel;
    }

    /**
     * The kernel features a {@code -K} word stands for, as ethtool 6.1 sends them: a kernel name itself; a
     * legacy name (short or as {@code -k} shows it) every feature of its group (tx: the five transmit
     * checksums; sg, tso likewise), in bit order; none for a legacy flag no kernel feature has any more
     * (ufo); null for a name nothing knows, which the kernel refuses. modnet's own features by their names.
     */
    private static List<String> kernelFeatures(String word, Map<String, Boolean> features) {
        if (KERNEL_FEATURES.contains(word)) {
            return List.of(word);
        }
        for (Offload o : OFFLOADS) {
            if (word.equals(o.shortName()) || word.equals(o.longName())) {
                for (List<String> group : FEATURE_LINES) {
                    if (group.size() > 1 && group.get(0).equals(o.longName())) {
                        return group.subList(1, group.size());
                    }
                }
                return KERNEL_FEATURES.contains(o.kernelName()) ? List.of(o.kernelName()) : List.of();
            }
        }
        return features.containsKey(word) && !BY_LEGACY_NAME.containsValue(word) ? List.of(word) : null;
    }

    /**
     * {@code ethtool -K} over netlink ({@code ethnl_set_features}). Parsed first ({@code NAME on|off}
     * pairs, else ethtool's own odd words); a missing device or a name the kernel has not is refused
     * whole (status 92), the latter with the offset of its name in the request's bitset. Then every
     * feature asked is set where the device lets it; a request that ends as asked, and moved nothing else, prints nothing.
     * Otherwise ethtool's "Actual changes", in bit order: each feature asked that is not as asked
     * ({@code [requested on]}), each that changed ({@code [not requested]} when it moved with another),
     * after "Could not change any device features" (status 1) when none is as asked.
     */
    private void setFeatures(String devName, NetDevice dev, List<String> rest) {
        for (int i = 0; i < rest.size(); i += 2) {
            String value = i + 1 < rest.size() ? rest.get(i + 1) : null;
            if (!"on".equals(value) && !"off".equals(value)) {
                throw new CommandException("ethtool (-K): flag '" + (value == null ? "(null)" : value)
                        + "' for parameter '(null)' is not followed by 'on' or 'off'", 1);
            }
        }
        if (dev == null) {
            throw noDevice(92);
        }
        Map<String, Boolean> before = dev.features();
        long bitsBefore = dev.netdevFeatures();
        java.util.Set<String> fixed = dev.fixedFeatures();
        Map<String, Boolean> wanted = new LinkedHashMap<>();
        // the request's first bit's name: after the header (its name and flags) and the bitset's nests
        int offset = NLMSG_GENL_HDRLEN + NLA_HDRLEN + nameAttrLen(devName) + 8 + 3 * NLA_HDRLEN;
        for (int i = 0; i < rest.size(); i += 2) {
            boolean on = rest.get(i + 1).equals("on");
            List<String> bits = kernelFeatures(rest.get(i), before);
            if (bits == null) {
                throw netlinkError("bit name not found", offset, Errno.EOPNOTSUPP, 92);
            }
            for (String k : bits) {
                wanted.put(k, on);
                offset += NLA_HDRLEN + nlaAligned(k.length() + 1) + (on ? NLA_HDRLEN : 0); // the bit's nest: its name, its value flag
            }
        }
        if (wanted.isEmpty()) {
            throw new CommandException("Could not change any device features", 1);
        }
        for (Map.Entry<String, Boolean> w : wanted.entrySet()) {
            String own = ownKey(w.getKey());
            Boolean state = before.get(own);
            if (state == null || state.equals(w.getValue()) || fixed.contains(own)) {
                continue; // as asked already, or not the device's to change
            }
            try {
                dev.setFeature(own, w.getValue());
            } catch (NetException refused) {
                // the device kept it: reported below as not what was requested
            }
        }
        Map<String, Boolean> after = dev.features();
        long bitsAfter = dev.netdevFeatures();
        List<String> order = new ArrayList<>(KERNEL_FEATURES);
        for (String own : new TreeMap<>(after).keySet()) {
            if (!order.contains(own) && !BY_LEGACY_NAME.containsValue(own) && OFFLOADS.stream().noneMatch(o -> o.longName().equals(own))) {
                order.add(own); // modnet's own, after Linux's
            }
        }
        List<String> lines = new ArrayList<>();
        boolean otherwise = false; // a feature asked that is not as asked, or one not asked that moved
        boolean noneAsAsked = true;
        for (String k : order) {
            boolean was = active(ownKey(k), before, bitsBefore);
            boolean is = active(ownKey(k), after, bitsAfter);
            Boolean asked = wanted.get(k);
            if (asked != null && asked == is) {
                noneAsAsked = false;
            }
            if (asked != null && asked != is) {
                lines.add(k + ": " + onOff(is) + " [requested " + onOff(asked) + "]");
                otherwise = true;
            } else if (was != is) {
                lines.add(k + ": " + onOff(is) + (asked == null ? " [not requested]" : ""));
                otherwise |= asked == null;
            }
        }
        if (otherwise) {
            inv.out().println("Actual changes:");
            lines.forEach(inv.out()::println);
        }
        if (noneAsAsked) {
            throw new CommandException("Could not change any device features", 1);
        }
    }

    /** An attribute's length with its header, padded to 4 bytes ({@code nla_total_size}). */
    private static int nlaAligned(int payload) {
        return (NLA_HDRLEN + payload + 3) & ~3;
    }

    // --- -S ---

    private void statistics(NetDevice dev, List<String> rest) {
        noArgs(rest);
        if (dev == null) {
            throw perror("Cannot get stats strings information", Errno.ENODEV, 96);
        }
        Map<String, Long> stats = dev.ethtoolStats();
        if (stats == null || stats.isEmpty()) {
            throw new CommandException("no stats available", 94);
        }
        inv.out().println("NIC statistics:");
        for (Map.Entry<String, Long> e : stats.entrySet()) {
            inv.out().println("     " + e.getKey() + ": " + Long.toUnsignedString(e.getValue()));
        }
    }

    // --- -l, -L ---

    private void showChannels(String name, NetDevice dev, List<String> rest) {
        noArgs(rest);
        if (dev == null) {
            throw noDevice(1);
        }
        var out = inv.out();
        out.println("Channel parameters for " + name + ":");
        if (separateChannels(dev)) {
            // veth_get_channels: receive and transmit queues counted apart, no combined channel
            out.println("Pre-set maximums:");
            out.println("RX:\t\t" + dev.maxRxQueues());
            out.println("TX:\t\t" + dev.maxTxQueues());
            out.println("Other:\t\tn/a");
            out.println("Combined:\tn/a");
            out.println("Current hardware settings:");
            out.println("RX:\t\t" + dev.rxQueues());
            out.println("TX:\t\t" + dev.txQueues());
            out.println("Other:\t\tn/a");
            out.println("Combined:\tn/a");
            return;
        }
        // each receive queue is a combined channel (one ring, one NAPI instance)
        out.println("Pre-set maximums:");
        out.println("RX:\t\tn/a");
        out.println("TX:\t\tn/a");
        out.println("Other:\t\tn/a");
        out.println("Combined:\t" + count(dev.maxRxQueues(), dev.maxRxQueues()));
        out.println("Current hardware settings:");
        out.println("RX:\t\tn/a");
        out.println("TX:\t\tn/a");
        out.println("Other:\t\tn/a");
        out.println("Combined:\t" + count(dev.maxRxQueues(), dev.rxQueues()));
    }

    /** A veth counts its receive and transmit queues apart (Linux's veth); other devices have combined channels. */
    private static boolean separateChannels(NetDevice dev) {
        return "veth".equals(dev.kind());
    }

    /**
     * {@code ethtool -L} over netlink ({@code ethnl_set_channels}), in the kernel's order: a device whose
     * driver has no {@code set_channels} refuses whatever was asked (EOPNOTSUPP: lo, an AF_PACKET device);
     * nothing changed is no change (status 0, nothing printed); a count past its maximum is refused naming
     * its attribute (rx, tx, other, combined: a veth has no combined channel, other devices only combined
     * ones), then counts that would leave no receive or no transmit channel; then the counts are set.
     */
    private void setChannels(String devName, NetDevice dev, List<String> rest) {
        Map<String, Long> wanted = netlinkParams("-L", rest, CHANNEL_PARAMS);
        if (dev == null) {
            throw noDevice(1);
        }
        try {
            if ("loopback".equals(dev.kind())) {
                throw new NetException(Errno.EOPNOTSUPP); // Linux's lo has no get_channels or set_channels
            }
            dev.setRxQueues(dev.rxQueues()); // asks the driver's set_channels, changes nothing
        } catch (NetException e) {
            throw netlinkError(null, -1, e.errno(), 1);
        }
        boolean apart = separateChannels(dev);
        Map<String, Long> current = Map.of("rx", apart ? (long) dev.rxQueues() : 0L, "tx", apart ? (long) dev.txQueues() : 0L, "other", 0L,
                "combined", apart ? 0L : (long) dev.rxQueues());
        Map<String, Long> max = Map.of("rx", apart ? (long) dev.maxRxQueues() : 0L, "tx", apart ? (long) dev.maxTxQueues() : 0L, "other", 0L,
                "combined", apart ? 0L : (long) dev.maxRxQueues());
        Map<String, Long> next = new LinkedHashMap<>(current);
        next.putAll(wanted);
        if (next.equals(current)) {
            return;
        }
        List<String> given = List.copyOf(wanted.keySet());
        for (String key : List.of("rx", "tx", "other", "combined")) {
            if (next.get(key) > max.get(key)) {
                throw netlinkError("requested channel count exceeds maximum", attrOffset(devName, given, key), Errno.EINVAL, 1);
            }
        }
        boolean combinedChanged = !next.get("combined").equals(current.get("combined"));
        String none = next.get("combined") != 0 ? null : next.get("rx") == 0 ? "rx" : next.get("tx") == 0 ? "tx" : null;
        if (none != null) {
            throw netlinkError("requested channel counts would result in no RX or TX channel being configured",
                    attrOffset(devName, given, combinedChanged ? "combined" : none), Errno.EINVAL, 1);
        }
        try {
            if (apart) {
                if (!next.get("tx").equals(current.get("tx"))) {
                    dev.setTxQueues((int) (long) next.get("tx"));
                }
                if (!next.get("rx").equals(current.get("rx"))) {
                    dev.setRxQueues((int) (long) next.get("rx"));
                }
            } else {
                dev.setRxQueues((int) (long) next.get("combined"));
            }
        } catch (NetException e) {
            throw netlinkError(null, -1, e.errno(), 1);
        }
    }

    // --- -c, -C, -a, -A: software devices have neither interrupt coalescing nor pause frames ---

    private void showCoalesce(NetDevice dev, List<String> rest) {
        noArgs(rest);
        throw dev == null ? noDevice(1) : netlinkError(null, -1, Errno.EOPNOTSUPP, 1);
    }

    /** {@code -C}: nl_parser's words for a bad parameter; then the kernel's refusal (no {@code set_coalesce}), status 1. */
    private void setCoalesce(NetDevice dev, List<String> rest) {
        netlinkParams("-C", rest, COALESCE_PARAMS);
        throw dev == null ? noDevice(1) : netlinkError(null, -1, Errno.EOPNOTSUPP, 1);
    }

    private void showPause(NetDevice dev, List<String> rest) {
        noArgs(rest);
        throw dev == null ? noDevice(1) : netlinkError(null, -1, Errno.EOPNOTSUPP, 1);
    }

    /** {@code -A}: nl_parser's words for a bad parameter; then the kernel's refusal (no {@code set_pauseparam}), status 76. */
    private void setPause(NetDevice dev, List<String> rest) {
        netlinkParams("-A", rest, PAUSE_PARAMS);
        throw dev == null ? noDevice(76) : netlinkError(null, -1, Errno.EOPNOTSUPP, 76);
    }
}
