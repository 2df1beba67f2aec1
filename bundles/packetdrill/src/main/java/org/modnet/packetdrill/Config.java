package org.modnet.packetdrill;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How a script runs (packetdrill's {@code config.c}): packetdrill's defaults, then the script's own
 * {@code --name=value} lines, then the command line's options over them, then the addresses the IP
 * version implies for what is still unset. Times are microseconds.
 *
 * @param ipVersion       {@code --ip_version}: the socket family and the wire protocol
 * @param localIp         {@code --local_ip}: the stack's address (bind's {@code ...})
 * @param remoteIp        {@code --remote_ip}: the script's end (connect's {@code ...}); prefix apart
 * @param remotePrefixLength the prefix of {@code --remote_ip=A/N} (24 for IPv4's default)
 * @param gatewayIp       {@code --gateway_ip}
 * @param netmaskIp       {@code --netmask_ip} (IPv4 and mapped only; null for IPv6)
 * @param prefixLength    the local prefix: from the netmask, 48 for IPv6
 * @param mss             {@code --mss}: the GSO size of inbound packets longer than it; 0 = one packet
 * @param toleranceUsecs  {@code --tolerance_usecs}, 4000 by default
 * @param tolerancePercent {@code --tolerance_percent} of the time since the previous event, 12.5 by default
 * @param tcpTsTickUsecs  {@code --tcp_ts_tick_usecs}: 0 = outbound TS val is not checked
 * @param defines         {@code -D}/{@code --define} symbols, NAME to VALUE
 * @param otherOptions    options packetdrill knows that have no meaning for an in-stack runner
 *                        ({@code --wire_*}, {@code --so_*}), by name, "" when given without a value
 */
public record Config(IpVersion ipVersion, int bindPort, int connectPort, String localIp, String remoteIp,
        int remotePrefixLength, String gatewayIp, String netmaskIp, int prefixLength, int mss, int mtu, long speed,
        long toleranceUsecs, double tolerancePercent, boolean tcpTsEcrScaled, int tcpTsTickUsecs,
        boolean strictSegments, boolean nonFatalPacket, boolean nonFatalSyscall, String codeCommand,
        String codeFormat, String codeSockopt, String initScripts, boolean dryRun, boolean anyIp,
        boolean sendOmitFree, boolean verbose, boolean debug, Map<String, String> defines,
        Map<String, String> otherOptions) {

    public Config {
        defines = Collections.unmodifiableMap(new LinkedHashMap<>(defines));
        otherOptions = Collections.unmodifiableMap(new LinkedHashMap<>(otherOptions));
    }

    public enum IpVersion {
        IPV4("ipv4"), IPV4_MAPPED_IPV6("ipv4-mapped-ipv6"), IPV6("ipv6");

        public final String option;

        IpVersion(String option) {
            this.option = option;
        }
    }

    /** The option names packetdrill knows, each with whether it takes a value ({@code config.c options[]}). */
    static final Map<String, Boolean> OPTIONS = options();

    private static final Set<String> OTHER = Set.of("wire_client", "wire_server", "wire_server_ip", "wire_server_at",
            "wire_server_port", "wire_client_dev", "wire_server_dev", "so_filename", "so_flags");

    private static Map<String, Boolean> options() {
        Map<String, Boolean> m = new LinkedHashMap<>();
        for (String name : List.of("ip_version", "bind_port", "code_command", "code_format", "code_sockopt",
                "connect_port", "remote_ip", "local_ip", "gateway_ip", "netmask_ip", "speed", "mss", "mtu",
                "init_scripts", "tolerance_usecs", "tolerance_percent", "wire_server_ip", "wire_server_at",
                "wire_server_port", "wire_client_dev", "wire_server_dev", "so_filename", "so_flags",
                "tcp_ts_tick_usecs", "non_fatal", "define")) {
            m.put(name, true);
        }
        for (String name : List.of("wire_client", "wire_server", "tcp_ts_ecr_scaled", "strict_segments", "dry_run",
                "is_anyip", "send_omit_free", "debug", "verbose")) {
            m.put(name, false);
        }
        return Collections.unmodifiableMap(m);
    }

    /** packetdrill's defaults, finalised (IPv4). */
    public static Config defaults() {
        return new Builder().build();
    }

    /**
     * The configuration of a script with these header options (where = the script's path, as errors
     * name it) under these command-line options, which win.
     */
    static Config of(String where, List<Script.Option> scriptOptions, List<Script.Option> commandLine)
            throws ScriptException {
        Builder b = new Builder();
        for (Script.Option o : scriptOptions) {
            Boolean hasArg = OPTIONS.get(o.name());
            if (hasArg == null) {
                throw ScriptException.option(where, "option '" + o.name() + "' unknown");
            }
            if (o.value() != null && !hasArg) {
                throw ScriptException.option(where, "option '" + o.name() + "' forbids an argument");
            }
            if (o.value() == null && hasArg) {
                throw ScriptException.option(where, "option '" + o.name() + "' requires an argument");
            }
            b.apply(o.name(), o.value(), where);
        }
        for (Script.Option o : commandLine) {
            b.apply(o.name(), o.value(), CommandLine.WHERE);
        }
        return b.build();
    }

    /** Options applied one by one, as {@code process_option} does; then {@link #build} fills in addresses. */
    static final class Builder {
        private IpVersion ipVersion;
        private int bindPort = 8080;
        private int connectPort = 8080;
        private String localIp = "";
        private String remoteIp = "";
        private String gatewayIp = "";
        private String netmaskIp = "";
        private int mss;
        private int mtu = 1500;
        private long speed;
        private long toleranceUsecs = 4000;
        private double tolerancePercent = 12.5;
        private boolean tcpTsEcrScaled;
        private int tcpTsTickUsecs;
        private boolean strictSegments;
        private boolean nonFatalPacket;
        private boolean nonFatalSyscall;
        private String codeCommand = "python3";
        private String codeFormat = "python";
        private String codeSockopt = "";
        private String initScripts;
        private boolean dryRun;
        private boolean anyIp;
        private boolean sendOmitFree;
        private boolean verbose;
        private boolean debug;
        private final Map<String, String> defines = new LinkedHashMap<>();
        private final Map<String, String> other = new LinkedHashMap<>();

        void apply(String name, String value, String where) throws ScriptException {
            String v = value == null ? "" : value;
            switch (name) {
                case "ip_version" -> ipVersion = switch (v) {
                    case "ipv4" -> IpVersion.IPV4;
                    case "ipv4-mapped-ipv6" -> IpVersion.IPV4_MAPPED_IPV6;
                    case "ipv6" -> IpVersion.IPV6;
                    default -> throw bad(where, name, v);
                };
                case "bind_port" -> bindPort = port(where, name, v);
                case "connect_port" -> connectPort = port(where, name, v);
                case "remote_ip" -> remoteIp = v;
                case "local_ip" -> localIp = v;
                case "gateway_ip" -> gatewayIp = v;
                case "netmask_ip" -> netmaskIp = v;
                case "mss" -> {
                    mss = (int) atol(v);
                    if (mss <= 0) {
                        throw bad(where, name, v);
                    }
                }
                case "mtu" -> {
                    mtu = (int) atol(v);
                    if (mtu < 0) {
                        throw bad(where, name, v);
                    }
                }
                case "speed" -> {
                    Long s = v.matches("[0-9]+") && v.length() < 12 ? Long.parseLong(v) : null;
                    if (s == null || s > 0xffffffffL) {
                        throw bad(where, name, v);
                    }
                    speed = s;
                }
                case "tolerance_usecs" -> {
                    toleranceUsecs = atol(v);
                    if (toleranceUsecs <= 0) {
                        throw bad(where, name, v);
                    }
                }
                case "tolerance_percent" -> {
                    tolerancePercent = atof(v);
                    if (tolerancePercent < 0 || tolerancePercent > 100) {
                        throw bad(where, name, v);
                    }
                }
                case "tcp_ts_ecr_scaled" -> tcpTsEcrScaled = true;
                case "tcp_ts_tick_usecs" -> {
                    long t = atol(v);
                    if (t < 0 || t > 1_000_000) {
                        throw bad(where, name, v);
                    }
                    tcpTsTickUsecs = (int) t;
                }
                case "strict_segments" -> strictSegments = true;
                case "non_fatal" -> {
                    for (String type : v.split("[, ]+")) {
                        nonFatalPacket |= type.equals("packet");
                        nonFatalSyscall |= type.equals("syscall");
                    }
                }
                case "code_command" -> codeCommand = v;
                case "code_format" -> codeFormat = v;
                case "code_sockopt" -> codeSockopt = v;
                case "init_scripts" -> initScripts = v;
                case "dry_run" -> dryRun = true;
                case "is_anyip" -> anyIp = true;
                case "send_omit_free" -> sendOmitFree = true;
                case "verbose" -> verbose = true;
                case "debug" -> debug = true;
                case "define" -> {
                    int eq = v.indexOf('=');
                    if (eq <= 0) {
                        throw ScriptException.option(where, "bad definition: " + v);
                    }
                    defines.put(v.substring(0, eq), v.substring(eq + 1));
                }
                case "wire_server_port" -> other.put(name, Integer.toString(port(where, name, v)));
                default -> {
                    if (!OTHER.contains(name)) {
                        throw ScriptException.option(where, "option '" + name + "' unknown");
                    }
                    other.put(name, v);
                }
            }
        }

        Config build() {
            IpVersion version = ipVersion == null ? IpVersion.IPV4 : ipVersion;
            String local = localIp;
            String remote = remoteIp;
            String gateway = gatewayIp;
            String netmask = netmaskIp;
            int prefix;
            if (version == IpVersion.IPV6) {
                // packetdrill picks a random local address in fd3d:fa7b:d17d::/48; a fixed one repeats runs.
                remote = remote.isEmpty() ? "2001:DB8::1/32" : remote;
                local = local.isEmpty() ? "fd3d:fa7b:d17d::2" : local;
                gateway = gateway.isEmpty() ? "fd3d:fa7b:d17d:8888::0" : gateway;
                netmask = null;
                prefix = 48;
            } else {
                // packetdrill picks a random local address in 192.168.0.0/16; a fixed one repeats runs.
                remote = remote.isEmpty() ? "192.0.2.1/24" : remote;
                netmask = netmask.isEmpty() ? "255.255.0.0" : netmask;
                local = local.isEmpty() ? "192.168.0.2" : local;
                gateway = gateway.isEmpty() ? "192.168.0.1" : gateway;
                prefix = netmaskToPrefix(netmask);
            }
            int slash = remote.indexOf('/');
            int remotePrefix = version == IpVersion.IPV6 ? 128 : 32;
            if (slash >= 0) {
                remotePrefix = (int) atol(remote.substring(slash + 1));
                remote = remote.substring(0, slash);
            }
            return new Config(version, bindPort, connectPort, local, remote, remotePrefix, gateway, netmask, prefix,
                    mss, mtu, speed, toleranceUsecs, tolerancePercent, tcpTsEcrScaled, tcpTsTickUsecs, strictSegments,
                    nonFatalPacket, nonFatalSyscall, codeCommand, codeFormat, codeSockopt, initScripts, dryRun, anyIp,
                    sendOmitFree, verbose, debug, defines, other);
        }

        private static int netmaskToPrefix(String netmask) {
            String[] parts = netmask.split("\\.");
            int bits = 0;
            for (String p : parts) {
                bits += Integer.bitCount((int) atol(p) & 0xff);
            }
            return bits;
        }

        private static int port(String where, String name, String v) throws ScriptException {
            long port = atol(v);
            if (port <= 0 || port > 0xffff) {
                throw bad(where, name, v);
            }
            return (int) port;
        }

        private static ScriptException bad(String where, String name, String v) {
            return ScriptException.option(where, "bad --" + name + ": " + v);
        }

        /** C's atol: leading blanks, a sign, digits; whatever follows is ignored; nothing is 0. */
        static long atol(String s) {
            int i = 0;
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            boolean negative = false;
            if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
                negative = s.charAt(i) == '-';
                i++;
            }
            long v = 0;
            while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9' && v < Long.MAX_VALUE / 10 - 10) {
                v = v * 10 + (s.charAt(i) - '0');
                i++;
            }
            return negative ? -v : v;
        }

        /** C's atof, for a plain decimal: 0 when it is not one. */
        static double atof(String s) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)")
                    .matcher(s);
            return m.find() ? Double.parseDouble(m.group().strip()) : 0;
        }
    }
}
