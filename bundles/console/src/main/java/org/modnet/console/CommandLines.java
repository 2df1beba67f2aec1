package org.modnet.console;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a {@code -c} script into its commands at top-level {@code ;} and newlines, the way a
 * shell reads {@code sh -c "a; b"}: separators inside quotes, braces, brackets and parentheses
 * belong to the command (Gogo closures and lists keep their own semicolons).
 */
final class CommandLines {
    private CommandLines() {
    }

    static List<String> split(String script) {
        List<String> commands = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < script.length(); i++) {
            char c = script.charAt(i);
            if (quote != 0) {
                current.append(c);
                if (c == '\\' && quote == '"' && i + 1 < script.length()) {
                    current.append(script.charAt(++i));
                } else if (c == quote) {
                    quote = 0;
                }
                continue;
            }
            switch (c) {
                case '\'', '"' -> quote = c;
                case '{', '[', '(' -> depth++;
                case '}', ']', ')' -> depth = Math.max(0, depth - 1);
                case '\\' -> {
                    if (i + 1 < script.length()) {
                        current.append(c);
                        c = script.charAt(++i);
                    }
                }
                default -> {
                }
            }
            if ((c == ';' || c == '\n') && depth == 0 && !(current.length() > 0 && isEscaped(current))) {
                add(commands, current);
                continue;
            }
            current.append(c);
        }
        add(commands, current);
        return commands;
    }

    private static boolean isEscaped(StringBuilder sb) {
        return sb.charAt(sb.length() - 1) == '\\';
    }

    private static void add(List<String> commands, StringBuilder current) {
        String command = current.toString().strip();
        if (!command.isEmpty() && !command.startsWith("#")) {
            commands.add(command);
        }
        current.setLength(0);
    }
}
