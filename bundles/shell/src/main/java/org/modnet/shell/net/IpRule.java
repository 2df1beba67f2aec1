package org.modnet.shell.net;

import static org.modnet.shell.net.Iproute.matches;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.modnet.api.shell.CommandException;

/**
 * {@code ip rule [list|show]}: the routing policy database. modnet routes by the local table, then
 * main, for every packet — Linux's three default rules, which are all a namespace has until rules are
 * added; listed as iproute2 lists them. Policy routing (adding rules, tables other than local and
 * main) is not built: {@code add} and {@code del} are refused and change nothing.
 */
final class IpRule {
    private static final List<Map.Entry<Integer, String>> RULES = List.of(Map.entry(0, "local"), Map.entry(32766, "main"),
            Map.entry(32767, "default"));

    private final Invocation inv;
    private final IpCommand.Options options;

    IpRule(Invocation inv, IpCommand.Options options) {
        this.inv = inv;
        this.options = options;
    }

    void run(List<String> words) {
        Args args = new Args(words);
        String cmd = args.more() ? args.next() : "list";
        if (matches(cmd, "list") || matches(cmd, "show") || matches(cmd, "lst")) {
            if (args.more()) {
                throw new CommandException("ip rule: selectors are not available in modnet (only the default rules exist)",
                        Iproute.SYNTAX);
            }
            list();
        } else if (matches(cmd, "add") || matches(cmd, "delete") || matches(cmd, "flush") || matches(cmd, "save")
                || matches(cmd, "restore")) {
            throw new CommandException("ip rule " + cmd + ": policy routing is not available in modnet: every namespace routes"
                    + " by the local and main tables (the default rules)", Iproute.FAILED);
        } else if (matches(cmd, "help")) {
            throw new CommandException("Usage: ip rule [ list ]", Iproute.SYNTAX);
        } else {
            throw Iproute.unknownCommand(cmd, "rule");
        }
    }

    private void list() {
        if (options.json()) {
            List<Object> all = new ArrayList<>();
            for (Map.Entry<Integer, String> r : RULES) {
                Map<String, Object> o = Json.object();
                o.put("priority", r.getKey());
                o.put("src", "all");
                o.put("table", r.getValue());
                all.add(o);
            }
            inv.out().print(Json.render(all, options.pretty()));
            return;
        }
        for (Map.Entry<Integer, String> r : RULES) {
            inv.out().println(r.getKey() + ":\tfrom all lookup " + r.getValue());
        }
    }
}
