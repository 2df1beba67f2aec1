package org.modnet.shell.net;

import static org.modnet.shell.net.Iproute.matches;

import java.util.ArrayList;
import java.util.List;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.apache.felix.service.command.Function;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;

/**
 * {@code ip netns}: list, add and delete namespaces, and run a command in one ({@code exec}), as
 * iproute2's {@code ip/ipnetns.c}. A namespace's "file" is {@code /run/netns/NAME} in Linux's messages.
 */
final class IpNetns {
    static final String USAGE = """
            Usage:	ip netns list
            	ip netns add NAME
            	ip netns { delete | del } NAME
            	ip netns exec NAME cmd ...""";


    private final Invocation inv;
    private final IpCommand.Options options;

    IpNetns(Invocation inv, IpCommand.Options options) {
        this.inv = inv;
        this.options = options;
    }

    void run(List<String> words) {
        NetCore core = inv.requireCore("ip");
        if (words.isEmpty()) {
            list(core);
            return;
        }
        String cmd = words.get(0);
        List<String> rest = words.subList(1, words.size());
        if (matches(cmd, "list") || matches(cmd, "show") || matches(cmd, "lst")) {
            list(core);
        } else if (matches(cmd, "help")) {
            throw new CommandException(USAGE, Iproute.SYNTAX);
        } else if (matches(cmd, "add")) {
            add(core, rest);
        } else if (matches(cmd, "delete")) {
            delete(core, rest);
        } else if (matches(cmd, "exec")) {
            exec(core, rest);
        } else if (matches(cmd, "identify")) {
            String current = Namespaces.currentName(inv.session());
            if (options.netns() != null) {
                current = options.netns();
            }
            if (current != null) {
                inv.out().println(current);
            }
        } else {
            throw new CommandException("Command \"" + cmd + "\" is unknown, try \"ip netns help\".", Iproute.SYNTAX);
        }
    }

    private void list(NetCore core) {
        for (NetNamespace ns : core.namespaces()) {
            if (!ns.isInitNet()) {
                inv.out().println(ns.name());
            }
        }
    }

    private static String name(List<String> words) {
        if (words.isEmpty()) {
            throw new CommandException("No netns name specified", Iproute.FAILED);
        }
        String name = words.get(0);
        // netns_name_valid: a file name under /run/netns
        if (name.isEmpty() || name.length() > 255 || name.contains("/") || name.equals(".") || name.equals("..")) {
            throw new CommandException("Invalid netns name \"" + name + "\"", Iproute.SYNTAX);
        }
        return name;
    }

    private static void add(NetCore core, List<String> words) {
        String name = name(words);
        if (words.size() > 1) {
            throw new CommandException("ip netns add: unexpected \"" + words.get(1) + "\" after the name", Iproute.SYNTAX);
        }
        try {
            core.addNamespace(name);
        } catch (NetException e) {
            throw new CommandException("Cannot create namespace file \"/run/netns/" + name + "\": "
                    + e.errno().text(), Iproute.FAILED);
        }
    }

    private static void delete(NetCore core, List<String> words) {
        String name = name(words);
        if (words.size() > 1) {
            throw new CommandException("ip netns delete: unexpected \"" + words.get(1) + "\" after the name",
                    Iproute.SYNTAX);
        }
        NetNamespace ns = core.namespace(name);
        try {
            if (ns == null || ns.isInitNet()) {
                throw new NetException(Errno.ENOENT);
            }
            core.deleteNamespace(name);
        } catch (NetException e) {
            throw new CommandException("Cannot remove namespace file \"/run/netns/" + name + "\": "
                    + e.errno().text(), Iproute.FAILED);
        }
    }

    /** Runs the rest of the words as a Gogo command line with the session in the namespace. */
    private void exec(NetCore core, List<String> words) {
        String name = name(words);
        if (words.size() < 2) {
            throw new CommandException("No command specified", Iproute.FAILED);
        }
        NetNamespace ns = core.namespace(name);
        if (ns == null) {
            throw new CommandException("Cannot open network namespace \"" + name + "\": No such file or directory",
                    Iproute.FAILED);
        }
        CommandSession session = inv.session();
        if (session == null) {
            throw new CommandException("ip netns exec: needs a shell session", Iproute.FAILED);
        }
        // One command, run here on this command's own thread, as ip netns exec runs one program: the
        // shell around it made the pipeline, so in `ip netns exec a nft list ruleset | nft -f -` only the
        // left side is in a. (Setting the session's variable instead put the right side, which runs at
        // the same time on another thread of the session, in a too.)
        String command = words.get(1);
        Object target = session.get(command); // a variable holding a closure, as Gogo looks first
        if (!(target instanceof Function) && command.indexOf(':') < 0) {
            target = session.get("*:" + command); // a command of any scope, as Gogo resolves a bare name
        }
        if (!(target instanceof Function function)) {
            throw new CommandException("exec of \"" + command + "\" failed: No such file or directory", Iproute.SYNTAX);
        }
        List<Object> args = new ArrayList<>(words.subList(2, words.size()));
        try {
            Object result = Commands.inNamespace(ns.isInitNet() ? "" : ns.name(), () -> function.execute(session, args));
            if (result != null) {
                inv.out().println(session.format(result, Converter.INSPECT));
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandException("", 130); // Ctrl-C ended the command: no words, the status a shell gives
        } catch (Exception e) {
            throw new CommandException("exec of \"" + command + "\" failed: " + e.getMessage(), Iproute.SYNTAX);
        }
    }
}
