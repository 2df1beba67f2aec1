package org.modnet.packetdrill;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * Runs script files as packetdrill's {@code main} does: parse (with the command line's options over
 * the script's), run on a fresh {@link Testbed}, report. A script that does not parse is a failure
 * with the parser's message.
 */
public final class Runner {
    private Runner() {
    }

    /** The command line defaults run_all.py gives for the ipv4 variant: fixed addresses, so runs repeat. */
    public static final String[] IPV4_DEFAULTS = { "--ip_version=ipv4", "--local_ip=192.168.0.1",
        "--gateway_ip=192.168.0.1", "--netmask_ip=255.255.0.0", "--remote_ip=192.0.2.1" };

    /** Runs {@code file} on a testbed {@code beds} makes; {@code verbose} (may be null) gets -v output. */
    public static Outcome run(Path file, CommandLine commandLine, Supplier<Testbed> beds, PrintStream verbose) {
        Script script;
        try {
            script = Parser.parse(file, commandLine);
        } catch (ScriptException e) {
            return new Outcome(Outcome.Status.FAIL, e.getMessage());
        } catch (IOException e) {
            return new Outcome(Outcome.Status.FAIL, file + ": " + e.getMessage());
        }
        try (Testbed bed = beds.get()) {
            return new Interpreter(script, bed, verbose).run();
        }
    }

    /** The command line with run_all.py's IPv4 addresses before {@code args} (which override them). */
    public static CommandLine commandLine(String... args) throws ScriptException {
        String[] all = new String[IPV4_DEFAULTS.length + args.length];
        System.arraycopy(IPV4_DEFAULTS, 0, all, 0, IPV4_DEFAULTS.length);
        System.arraycopy(args, 0, all, IPV4_DEFAULTS.length, args.length);
        return CommandLine.parse(all);
    }
}
