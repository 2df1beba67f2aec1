package org.modnet.packetdrill;

import java.util.ArrayList;
import java.util.List;

/**
 * packetdrill's command line: {@code --name=value} or {@code --name value} options, {@code -D NAME=VALUE}
 * (or {@code -DNAME=VALUE}), {@code -v}, then script paths. Its options override a script's own.
 */
public record CommandLine(List<Script.Option> options, List<String> scripts) {
    /** How packetdrill names the command line in its option errors. */
    static final String WHERE = "Command Line";

    public static final CommandLine NONE = new CommandLine(List.of(), List.of());

    public CommandLine {
        options = List.copyOf(options);
        scripts = List.copyOf(scripts);
    }

    public static CommandLine parse(String... args) throws ScriptException {
        List<Script.Option> options = new ArrayList<>();
        List<String> scripts = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-v")) {
                options.add(new Script.Option("verbose", null, 0));
            } else if (a.startsWith("-D")) {
                String def = a.length() > 2 ? a.substring(2) : i + 1 < args.length ? args[++i] : null;
                if (def == null) {
                    throw ScriptException.option(WHERE, "option requires an argument -- 'D'");
                }
                options.add(new Script.Option("define", def, 0));
            } else if (a.startsWith("--") && a.length() > 2) {
                int eq = a.indexOf('=');
                String name = eq < 0 ? a.substring(2) : a.substring(2, eq);
                Boolean hasArg = Config.OPTIONS.get(name);
                if (hasArg == null) {
                    throw ScriptException.option(WHERE, "unrecognized option '--" + name + "'");
                }
                String value = eq < 0 ? null : a.substring(eq + 1);
                if (hasArg && value == null) {
                    if (i + 1 >= args.length) {
                        throw ScriptException.option(WHERE, "option '--" + name + "' requires an argument");
                    }
                    value = args[++i];
                } else if (!hasArg && value != null) {
                    throw ScriptException.option(WHERE, "option '--" + name + "' doesn't allow an argument");
                }
                options.add(new Script.Option(name, value, 0));
            } else {
                scripts.add(a);
            }
        }
        return new CommandLine(options, scripts);
    }
}
