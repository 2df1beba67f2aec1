package org.modnet.console;

import java.util.List;

/**
 * The launcher's command line, as {@code bin/modnet} passes it to the exported jar:
 * {@code [-n NAME] [--feature NAME] [--stay] [-c "cmd; cmd"]}.
 */
record Options(String name, String feature, boolean stay, String commands) {
    static final String DEFAULT_NAME = "default";

    static Options parse(List<String> args, String defaultFeature) {
        String name = DEFAULT_NAME;
        String feature = defaultFeature;
        boolean stay = false;
        String commands = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "-n", "--name" -> name = value(args, ++i, a);
                case "--feature" -> feature = value(args, ++i, a);
                case "--stay" -> stay = true;
                case "-c" -> commands = value(args, ++i, a);
                default -> throw new IllegalArgumentException("modnet: unknown option '" + a + "'");
            }
        }
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("modnet: bad instance name '" + name + "' (letters, digits, . _ -)");
        }
        return new Options(name, feature, stay, commands);
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) {
            throw new IllegalArgumentException("modnet: option " + option + " needs a value");
        }
        return args.get(i);
    }
}
