package org.modnet.api.shell;

/** Service properties every modnet Gogo command registers with. */
public final class Commands {
    /** The Gogo scope of every modnet command: {@code osgi.command.scope=modnet}. */
    public static final String SCOPE = "modnet";

    /**
     * The Gogo session variable naming the network namespace commands act in (as {@code ip netns exec}
     * and {@code ip -n} set it); absent means {@code init_net}.
     */
    public static final String NETNS = "modnet.netns";

    /**
     * The namespace {@code ip netns exec} runs its one command in, for that command's thread only: a
     * pipeline's other commands run on other threads of the same session and keep the session's own.
     */
    private static final ThreadLocal<String> EXEC_NETNS = new ThreadLocal<>();

    private Commands() {
    }

    /**
     * Runs {@code action} on this thread with every command it calls in namespace {@code name} (empty for
     * {@code init_net}), as {@code ip netns exec NAME cmd} runs {@code cmd}: {@link #namespace} and
     * {@link #netns} answer that name here until it returns, whatever the session's {@link #NETNS} says,
     * and nothing changes for the session's other threads (the other side of {@code ip netns exec a X | Y}).
     */
    public static <T> T inNamespace(String name, java.util.concurrent.Callable<T> action) throws Exception {
        String previous = EXEC_NETNS.get();
        EXEC_NETNS.set(name == null ? "" : name);
        try {
            return action.call();
        } finally {
            if (previous == null) {
                EXEC_NETNS.remove();
            } else {
                EXEC_NETNS.set(previous);
            }
        }
    }

    /**
     * The namespace name a command on this thread acts in: the one {@link #inNamespace} set here, else
     * {@code sessionValue} (the session's {@link #NETNS} variable, or null).
     */
    public static Object netns(Object sessionValue) {
        String exec = EXEC_NETNS.get();
        return exec != null ? exec : sessionValue;
    }

    /**
     * A command's words as its tool reads them. Gogo passes an unset variable ({@code ip link $u}) as
     * null, and no words at all as a null array: a null becomes an empty word, as {@code "$u"} is in a
     * POSIX shell, so the tool answers in its own words ({@code ip link ""}) and never with a Java
     * exception. Call it first thing in every command method (with the session, where the method takes
     * one: {@link #words(Object, String[])}).
     *
     * @return {@code args} itself when it holds no null, else a copy; never null
     */
    public static String[] words(String... args) {
        if (args == null) {
            return new String[0];
        }
        String[] w = args;
        for (int i = 0; i < w.length; i++) {
            if (w[i] == null) {
                if (w == args) {
                    w = args.clone();
                }
                w[i] = "";
            }
        }
        return w;
    }

    /**
     * The words of a command method whose first parameter is Gogo's {@code CommandSession}: Gogo binds
     * a lone null word ({@code nc $y}) to that parameter, so a null {@code session} means one empty
     * word came first. The caller takes the session from {@code Job.Utils.current().session()} then.
     *
     * @param session the method's {@code CommandSession} parameter (an {@code Object} here: the API
     *     does not depend on Gogo)
     */
    public static String[] words(Object session, String[] args) {
        String[] w = words(args);
        if (session != null) {
            return w;
        }
        String[] shifted = new String[w.length + 1];
        shifted[0] = "";
        System.arraycopy(w, 0, shifted, 1, w.length);
        return shifted;
    }

    /** One argument as {@link #words} reads it: an unset variable is the empty word. */
    public static String word(String arg) {
        return arg == null ? "" : arg;
    }

    /**
     * The namespace a command runs in: the one {@code ip netns exec} runs it in ({@link #inNamespace}),
     * else the one the session's {@link #NETNS} variable names, else {@code init_net}. A name that no longer exists is the tool's
     * error, in its own words.
     *
     * @param variable the session's {@code NETNS} value, or null
     */
    public static org.modnet.api.net.NetNamespace namespace(org.modnet.api.net.NetCore core, Object variable, String tool) {
        Object effective = netns(variable);
        String name = effective == null ? "" : effective.toString();
        if (name.isEmpty()) {
            return core.initNet();
        }
        org.modnet.api.net.NetNamespace ns = core.namespace(name);
        if (ns == null) {
            throw new CommandException(tool + ": network namespace \"" + name + "\" does not exist any more (see ip netns list)", 1);
        }
        return ns;
    }
}
