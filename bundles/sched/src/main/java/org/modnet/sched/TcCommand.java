package org.modnet.sched;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.sched.QdiscHook;
import org.modnet.api.sched.QdiscOps;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code tc} (iproute2): {@code tc [-s] [-n NS] qdisc add|replace|change|link|del|show [dev DEV]
 * [root|parent H] [handle H] KIND ARGS}, and {@code tc class ...} ({@link TcClass}). The qdisc families are the {@link QdiscOps} services there
 * are now, so a family installed while the stack runs is usable at once and one that leaves takes
 * its qdiscs off their devices. Stopping this bundle gives every device its default qdisc back.
 */
@Component(service = TcCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=tc" })
public final class TcCommand {
    static final String USAGE = """
            Usage: tc [ OPTIONS ] OBJECT { COMMAND | help }
            where  OBJECT := { qdisc | class | filter | chain |
                               action }
                   OPTIONS := { -s[tatistics] | -n[etns] name }""";
    static final String QDISC_USAGE = """
            Usage: tc qdisc [ add | del | replace | change | show ] dev STRING
                   [ handle QHANDLE ] [ root | parent CLASSID ]
                   [ QDISC_KIND [ help | OPTIONS ] ]

                   tc qdisc { show | list } [ dev STRING ]""";

    private final NetCore core;
    private final Map<String, QdiscOps> families = new ConcurrentHashMap<>();
    private final SchApi api;
    private final ClsActApi clsact;
    private final TcFilterApi filters;

    @Activate
    public TcCommand(@Reference NetCore core, @Reference QdiscHook hook) {
        this.core = core;
        this.clsact = new ClsActApi(hook);
        this.api = new SchApi(core, hook, families::get, clsact::show);
        this.filters = new TcFilterApi(core, clsact, () -> bpf, api::filterBlock, api::filterRoot);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addFamily(QdiscOps ops, Map<String, Object> props) {
        Object kind = props.get(QdiscOps.KIND);
        if (kind != null) {
            families.put(kind.toString(), ops);
        }
    }

    void removeFamily(QdiscOps ops, Map<String, Object> props) {
        Object kind = props.get(QdiscOps.KIND);
        if (kind != null && families.remove(kind.toString(), ops)) {
            api.detachKind(kind.toString());
        }
    }

    /** The bpf classifier's loader, there while the eBPF layer is. */
    private volatile ClsBpfLoader bpf;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, service = ClsBpfObjects.class)
    void setBpf(ClsBpfObjects loader) {
        bpf = loader;
    }

    void unsetBpf(ClsBpfObjects loader) {
        if (bpf == loader) {
            bpf = null;
        }
    }

    @Deactivate
    void deactivate() {
        api.detachAll();
        clsact.detachAll();
    }

    SchApi api() {
        return api;
    }

    public void tc(CommandSession session, String... args) {
        args = Commands.words(session, args);
        Object netns = session != null ? session.get(Commands.NETNS) : null;
        for (String line : run(netns, args)) {
            System.out.println(line);
        }
    }

    /** The command without a shell: its output lines, or a {@link CommandException} in tc's words. */
    List<String> run(Object netns, String... argv) {
        List<String> w = new ArrayList<>(Arrays.asList(argv));
        boolean stats = false;
        while (!w.isEmpty() && w.get(0).startsWith("-")) {
            String o = w.remove(0);
            switch (o) {
                case "-s", "-stats", "-statistics" -> stats = true;
                case "-d", "-details", "-p", "-pretty" -> { }
                case "-n", "-netns" -> {
                    if (w.isEmpty()) {
                        throw new CommandException("Command line is not complete. Try option \"help\"", 1);
                    }
                    netns = w.remove(0);
                }
                default -> throw new CommandException("Option \"" + o + "\" is unknown, try \"tc -help\".", 1);
            }
        }
        if (w.isEmpty() || w.get(0).equals("help")) {
            throw new CommandException(USAGE, w.isEmpty() ? 255 : 255);
        }
        String object = w.remove(0);
        if (!object.isEmpty() && "filter".startsWith(object)) {
            return filters.run(Commands.namespace(core, netns, "tc"), w, stats);
        }
        if (!object.isEmpty() && "actions".startsWith(object)) {
            return filters.actions(Commands.namespace(core, netns, "tc"), w, stats);
        }
        if (object.length() >= 2 && "chain".startsWith(object)) {
            return filters.chain(Commands.namespace(core, netns, "tc"), w);
        }
        boolean classes = !object.isEmpty() && "class".startsWith(object);
        if (!classes && (!"qdisc".startsWith(object) || object.isEmpty())) {
            throw new CommandException("Object \"" + object + "\" is unknown, try \"tc help\".", 1);
        }
        NetNamespace ns = Commands.namespace(core, netns, "tc");
        String cmd = w.isEmpty() ? "show" : w.remove(0);
        if (classes) {
            return TcClass.run(api, ns, cmd, w, stats);
        }
        return switch (cmd) {
            case "add", "replace", "change", "link", "del", "delete" -> {
                modify(ns, cmd, w);
                yield List.of();
            }
            case "show", "list", "ls", "lst" -> show(ns, w, stats);
            case "help" -> throw new CommandException(QDISC_USAGE, 255);
            default -> throw new CommandException("Command \"" + cmd + "\" is unknown, try \"tc qdisc help\".", 1);
        };
    }

    private List<String> show(NetNamespace ns, List<String> w, boolean stats) {
        NetDevice dev = null;
        for (int i = 0; i < w.size(); i++) {
            String k = w.get(i);
            if (k.equals("dev") && i + 1 < w.size()) {
                dev = device(ns, w.get(++i));
            } else if (!k.equals("root")) {
                throw new CommandException("What is \"" + k + "\"? Try \"tc qdisc help\".", 255);
            }
        }
        return api.show(ns, dev, stats);
    }

    /** {@code tc_qdisc_modify}: reads tc's words up to the kind, then hands the rest to the family. */
    private void modify(NetNamespace ns, String cmd, List<String> w) {
        String devName = null;
        int parent = 0;
        boolean parentGiven = false;
        int handle = 0;
        String kind = null;
        String ingressKind = null;
        List<String> rest = List.of();
        for (int i = 0; i < w.size(); i++) {
            String k = w.get(i);
            switch (k) {
                case "dev" -> devName = need(w, ++i);
                case "root" -> {
                    if (parentGiven) {
                        throw new CommandException("Error: \"root\" is duplicate parent ID", 255);
                    }
                    parent = SchApi.ROOT;
                    parentGiven = true;
                }
                case "parent" -> {
                    if (parentGiven) {
                        throw new CommandException("Error: \"parent\" is duplicate parent ID", 255);
                    }
                    String v = need(w, ++i);
                    parent = v.equals("root") ? SchApi.ROOT : TcUtil.parseClassid(v);
                    if (parent == -2 || (parent == -1 && !v.equals("root") && !v.equals("ffff:ffff"))) {
                        throw new CommandException("Error: argument \"" + v + "\" is wrong: invalid parent ID", 255);
                    }
                    parentGiven = true;
                }
                case "handle" -> {
                    String v = need(w, ++i);
                    handle = TcUtil.parseQdiscHandle(v);
                    if (handle == -1) {
                        throw new CommandException("Error: argument \"" + v + "\" is wrong: invalid qdisc ID", 255);
                    }
                }
                case "ingress", "clsact" -> ingressKind = k;
                case "estimator", "stab" -> throw new CommandException("RTNETLINK answers: Operation not supported", 2);
                default -> {
                    kind = k;
                    rest = List.copyOf(w.subList(i + 1, w.size()));
                    i = w.size();
                }
            }
        }
        if (devName == null) {
            throw new CommandException("Cannot find device \"\"", 1);
        }
        NetDevice dev = device(ns, devName);
        if (ingressKind != null) {
            clsact.modify(dev, cmd, ingressKind);
            return;
        }
        if (!parentGiven) {
            parent = SchApi.ROOT; // the only parent there is: a qdisc without classes below it
        }
        switch (cmd) {
            case "add" -> api.modify(dev, parent, handle, kind, rest, true, true, false);
            case "replace" -> api.modify(dev, parent, handle, kind, rest, true, false, true);
            case "change" -> api.modify(dev, parent, handle, kind, rest, false, false, false);
            case "link" -> api.modify(dev, parent, handle, kind, rest, false, false, true);
            default -> api.delete(dev, parent, handle);
        }
    }

    static String need(List<String> w, int i) {
        if (i >= w.size()) {
            throw new CommandException("Command line is not complete. Try option \"help\"", 1);
        }
        return w.get(i);
    }

    static NetDevice device(NetNamespace ns, String name) {
        NetDevice dev = ns.device(name);
        if (dev == null) {
            throw new CommandException("Cannot find device \"" + name + "\"", 1);
        }
        return dev;
    }
}
