package org.modnet.shell.net;

import static org.modnet.shell.net.Iproute.matches;

import java.util.List;
import java.util.regex.Pattern;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
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

    /** Words Gogo reads back as they are; anything else is quoted. */
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:+,-]+");

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
        String line = commandLine(words.subList(1, words.size()));
        Object previous = session.get(Commands.NETNS);
        session.put(Commands.NETNS, ns.isInitNet() ? null : ns.name());
        try {
            Object result = session.execute(line);
            if (result != null) {
                inv.out().println(session.format(result, Converter.INSPECT));
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandException("", 130); // Ctrl-C ended the command: no words, the status a shell gives
        } catch (Exception e) {
            throw new CommandException("exec of \"" + words.get(1) + "\" failed: " + e.getMessage(), Iproute.SYNTAX);
        } finally {
            session.put(Commands.NETNS, previous);
        }
    }

    /** The words as one Gogo line that reads back as the same words. */
    static String commandLine(List<String> words) {
        StringBuilder b = new StringBuilder();
        for (String w : words) {
            if (!b.isEmpty()) {
                b.append(' ');
            }
            b.append(quote(w));
        }
        return b.toString();
    }

    static String quote(String w) {
        if (PLAIN.matcher(w).matches()) {
            return w;
        }
        if (w.indexOf('\'') < 0) {
            return "'" + w + "'";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : w.toCharArray()) {
            if (c == '"' || c == '\\' || c == '$') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.append('"').toString();
    }
}
