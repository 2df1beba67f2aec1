package org.modnet.shell.net;

import static org.modnet.shell.net.Iproute.matches;

import java.util.ArrayList;
import java.util.List;

import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/**
 * {@code ip [OPTIONS] OBJECT [COMMAND ...]}, as iproute2's {@code ip.c}: the global options, then the
 * object, found by abbreviation in iproute2's own order (so {@code ip a} is {@code address} and
 * {@code ip l} is {@code link}).
 */
final class IpCommand {
    /** iproute2's object table, in its order: an abbreviation picks the first that it starts. */
    private static final List<String> OBJECTS = List.of("address", "addrlabel", "maddress", "route", "rule",
            "neighbor", "neighbour", "ntable", "ntbl", "link", "l2tp", "fou", "ila", "macsec", "tunnel", "tunl",
            "tuntap", "tap", "token", "tcpmetrics", "tcp_metrics", "monitor", "xfrm", "mroute", "mrule", "netns",
            "netconf", "vrf", "sr", "nexthop", "mptcp", "ioam", "stats", "help");

    static final String USAGE = """
            Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
            where  OBJECT := { address | link | maddress | monitor | neigh | netns | route | rule }
                   OPTIONS := { -s[tatistics] | -d[etails] | -o[neline] | -br[ief] |
                                -4 | -j[son] | -p[retty] | -n[etns] name }""";

    /** The global options: how much to show and in which namespace. */
    record Options(int stats, boolean details, boolean oneline, boolean brief, String netns, boolean json, boolean pretty) {
        Options(int stats, boolean details, boolean oneline, boolean brief, String netns) {
            this(stats, details, oneline, brief, netns, false, false);
        }
    }

    private final Invocation inv;

    IpCommand(Invocation inv) {
        this.inv = inv;
    }

    void run(List<String> words) {
        Args args = new Args(words);
        int stats = 0;
        boolean details = false;
        boolean oneline = false;
        boolean brief = false;
        String netns = null;
        boolean json = false;
        boolean pretty = false;
        while (args.more()) {
            String opt = args.peek();
            if (opt.equals("--")) {
                args.next();
                break;
            }
            if (!opt.startsWith("-")) {
                break;
            }
            args.next();
            if (opt.startsWith("--")) {
                opt = opt.substring(1);
            }
            if (opt.equals("-4")) {
                continue; // IPv4 is all there is
            } else if (matches(opt, "-human") || matches(opt, "-human-readable")) {
                continue; // counters are printed in full
            } else if (matches(opt, "-stats") || matches(opt, "-statistics")) {
                stats++;
            } else if (matches(opt, "-details")) {
                details = true;
            } else if (matches(opt, "-oneline")) {
                oneline = true;
            } else if (matches(opt, "-brief") && opt.length() > 2) {
                brief = true; // "-b" alone is -batch
            } else if (matches(opt, "-help")) {
                throw new CommandException(USAGE, Iproute.SYNTAX);
            } else if (matches(opt, "-json")) {
                json = true;
            } else if (matches(opt, "-pretty")) {
                pretty = true; // only with -j, as iproute2: the text output is the same either way
            } else if (matches(opt, "-netns")) {
                netns = args.value(Iproute::incomplete);
            } else if (opt.equals("-6") || opt.equals("-0") || matches(opt, "-family") || matches(opt, "-batch") || matches(opt, "-color")
                    || matches(opt, "-timestamp") || matches(opt, "-tshort") || matches(opt, "-resolve")
                    || matches(opt, "-force") || matches(opt, "-all") || matches(opt, "-iec")) {
                throw new CommandException("ip: option \"" + opt + "\" is not supported by modnet", Iproute.SYNTAX);
            } else {
                throw new CommandException("Option \"" + opt + "\" is unknown, try \"ip -help\".", Iproute.SYNTAX);
            }
        }
        if (!args.more()) {
            throw new CommandException(USAGE, Iproute.SYNTAX);
        }
        Options options = new Options(stats, details, oneline, brief, netns, json, pretty);
        String word = args.next();
        String object = OBJECTS.stream().filter(o -> matches(word, o)).findFirst().orElse(null);
        if (object == null) {
            throw new CommandException("Object \"" + word + "\" is unknown, try \"ip help\".", Iproute.SYNTAX);
        }
        List<String> rest = new ArrayList<>(args.rest());
        switch (object) {
            case "address" -> new IpAddr(inv, options, namespace(options)).run(rest);
            case "link" -> new IpLink(inv, options, namespace(options)).run(rest);
            case "netns" -> new IpNetns(inv, options).run(rest);
            case "route" -> new IpRoute(inv, namespace(options), options).run(rest);
            case "neighbor", "neighbour" -> new IpNeigh(inv, namespace(options), options).run(rest);
            case "rule" -> new IpRule(inv, namespace(options), options).run(rest);
            case "monitor" -> new IpMonitor(inv, namespace(options)).run(rest);
            case "maddress" -> new IpMaddr(inv, namespace(options), inv.routes() != null).run(rest);
            case "help" -> throw new CommandException(USAGE, Iproute.SYNTAX);
            default -> throw new CommandException("ip " + object + ": not available in modnet yet", Iproute.SYNTAX);
        }
    }

    /** {@code -n NAME}, else the session's namespace. */
    private NetNamespace namespace(Options options) {
        NetCore core = inv.requireCore("ip");
        if (options.netns() == null) {
            return inv.namespace("ip");
        }
        NetNamespace ns = core.namespace(options.netns());
        if (ns == null) {
            throw new CommandException("Cannot open network namespace \"" + options.netns()
                    + "\": No such file or directory", Iproute.SYNTAX);
        }
        return ns;
    }
}
