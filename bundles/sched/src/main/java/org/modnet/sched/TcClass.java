package org.modnet.sched;

import java.util.List;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/**
 * {@code tc class add|change|replace|del|show dev DEV [parent CLASSID] [classid CLASSID] [KIND ARGS]}
 * (iproute2's {@code tc_class.c}): reads tc's words up to the kind and hands the rest to the root
 * qdisc's class operations.
 */
final class TcClass {
    static final String USAGE = """
            Usage: tc class [ add | del | change | replace | show ] dev STRING
                   [ classid CLASSID ] [ root | parent CLASSID ]
                   [ [ QDISC_KIND ] [ help | OPTIONS ] ]

                   tc class show [ dev STRING ] [ root | parent CLASSID ]
            Where:
            QDISC_KIND := { prio | htb | etc. }
            OPTIONS := ... try tc class add <desired QDISC_KIND> help""";

    private TcClass() {
    }

    static List<String> run(SchApi api, NetNamespace ns, String cmd, List<String> w, boolean stats) {
        return switch (cmd) {
            case "add", "change", "replace", "del", "delete" -> {
                modify(api, ns, cmd, w);
                yield List.of();
            }
            case "show", "list", "ls", "lst" -> show(api, ns, w, stats);
            case "help" -> throw new CommandException(USAGE, 255);
            default -> throw new CommandException("Command \"" + cmd + "\" is unknown, try \"tc class help\".", 1);
        };
    }

    private static int classid(String v, String what) {
        int id = TcUtil.parseClassid(v);
        if (id == -1) {
            throw new CommandException("Error: argument \"" + v + "\" is wrong: invalid " + what + " ID", 255);
        }
        return id;
    }

    private static void modify(SchApi api, NetNamespace ns, String cmd, List<String> w) {
        String devName = null;
        int parent = 0;
        int classid = 0;
        String kind = null;
        List<String> rest = List.of();
        for (int i = 0; i < w.size(); i++) {
            String k = w.get(i);
            switch (k) {
                case "dev" -> devName = TcCommand.need(w, ++i);
                case "classid" -> classid = classid(TcCommand.need(w, ++i), "class");
                case "root" -> parent = SchApi.ROOT;
                case "parent" -> {
                    String v = TcCommand.need(w, ++i);
                    parent = v.equals("root") ? SchApi.ROOT : classid(v, "parent");
                }
                case "handle" -> throw new CommandException("Error: try \"classid\" instead of \"handle\"", 255);
                case "estimator" -> throw new CommandException("RTNETLINK answers: Operation not supported", 2);
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
        NetDevice dev = TcCommand.device(ns, devName);
        boolean delete = cmd.startsWith("del");
        if (!delete && kind == null && !cmd.equals("change")) {
            throw new CommandException("RTNETLINK answers: Invalid argument", 2);
        }
        switch (cmd) {
            case "add" -> api.modifyClass(dev, parent, classid, kind, rest, true, true, false);
            case "replace" -> api.modifyClass(dev, parent, classid, kind, rest, true, false, false);
            case "change" -> api.modifyClass(dev, parent, classid, kind, rest, false, false, false);
            default -> api.modifyClass(dev, parent, classid, null, List.of(), false, false, true);
        }
    }

    private static List<String> show(SchApi api, NetNamespace ns, List<String> w, boolean stats) {
        NetDevice dev = null;
        for (int i = 0; i < w.size(); i++) {
            String k = w.get(i);
            if (k.equals("dev")) {
                dev = TcCommand.device(ns, TcCommand.need(w, ++i));
            } else if (!k.equals("root")) {
                throw new CommandException("What is \"" + k + "\"? Try \"tc class help\"", 255);
            }
        }
        return api.showClasses(ns, dev, stats);
    }
}
