package org.modnet.console;

import java.io.PrintStream;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.apache.felix.service.command.Job;
import org.modnet.api.shell.CommandException;

/**
 * Runs command lines in a Gogo session the way a shell does: the result is printed, a failure is
 * reported on standard error and turned into an exit status. A {@link CommandException} prints the
 * command's own words (Linux's error text); anything else a modnet command throws is its bug, told in
 * the tool's name ({@code ip: internal error (IllegalStateException: ...)}); a failure of Gogo's own
 * keeps Gogo's form, {@code gogo: CommandNotFoundException: Command not found: foo}.
 */
final class Executor {
    /** The status of a command that Ctrl-C ended, as a shell reports a job that SIGINT ended (128 + 2). */
    static final int INTERRUPTED = 130;
    private final CommandSession session;
    private final PrintStream out;
    private final PrintStream err;

    Executor(CommandSession session, PrintStream out, PrintStream err) {
        this.session = session;
        this.out = out;
        this.err = err;
    }

    CommandSession session() {
        return session;
    }

    /** Ctrl-C: interrupts the command line running now (the session's foreground job), if one runs. */
    void interrupt() {
        Job job = session.foregroundJob();
        if (job != null) {
            job.interrupt();
        }
    }

    /** Runs one command line; returns its exit status (0 on success). */
    int execute(String line) {
        try {
            Object result = session.execute(line);
            if (result != null) {
                CharSequence text = session.format(result, Converter.INSPECT);
                if (text != null && !text.isEmpty()) {
                    out.println(text);
                }
            }
            out.flush();
            return 0;
        } catch (Throwable t) {
            out.flush();
            Throwable cause = unwrap(t);
            if (cause instanceof InterruptedException) {
                Thread.interrupted();
                return INTERRUPTED;
            }
            if (cause instanceof CommandException ce) {
                if (!ce.getMessage().isEmpty()) {
                    err.println(ce.getMessage());
                    err.flush();
                }
                return ce.status();
            }
            err.println(describe(line, cause));
            err.flush();
            return 1;
        }
    }

    /**
     * Runs every command of a {@code -c} script; the status is the first failure's, else 0. A command
     * ended by Ctrl-C (130) ends the script too, as SIGINT ends a shell's list.
     */
    int executeScript(String script) {
        int status = 0;
        for (String command : CommandLines.split(script)) {
            int s = execute(command);
            if (s != 0 && status == 0) {
                status = s;
            }
            if (s == INTERRUPTED) {
                break;
            }
        }
        return status;
    }

    /**
     * The words for a failure that is no {@link CommandException}: thrown from a modnet command's code
     * (a modnet frame above Gogo's), it is that tool's internal error; else it is Gogo's.
     */
    static String describe(String line, Throwable cause) {
        String what = cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
        if (fromCommand(cause)) {
            return tool(line) + ": internal error (" + what + ")";
        }
        return "gogo: " + cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }

    private static boolean fromCommand(Throwable t) {
        for (StackTraceElement frame : t.getStackTrace()) {
            String c = frame.getClassName();
            if (c.startsWith("org.apache.felix.gogo.") || c.startsWith("org.apache.felix.service.command.")) {
                return false; // reached Gogo: the failure is the shell's (parsing, coercion, lookup)
            }
            if (c.startsWith("org.modnet.") && !c.equals(Executor.class.getName())) {
                return true;
            }
        }
        return false;
    }

    /** The command's name as typed: its first word, without a {@code modnet:} scope. */
    static String tool(String line) {
        String first = line.strip().split("[\\s|;]", 2)[0];
        int colon = first.indexOf(':');
        first = colon >= 0 ? first.substring(colon + 1) : first;
        return first.isEmpty() ? "modnet" : first;
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof java.lang.reflect.InvocationTargetException
                || c instanceof java.lang.reflect.UndeclaredThrowableException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    void close() {
        session.close();
    }
}
