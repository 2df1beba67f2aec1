package org.modnet.shell.net;

import org.modnet.api.net.NetException;
import org.modnet.api.shell.CommandException;

/**
 * iproute2's words and exit statuses: 255 for what {@code exit(-1)} ends (bad syntax), 1 for what a
 * command returns -1 for (no such device), 2 for what the kernel refused ({@code RTNETLINK answers}).
 */
final class Iproute {
    static final int SYNTAX = 255;
    static final int FAILED = 1;
    static final int KERNEL = 2;

    private Iproute() {
    }

    /** iproute2's {@code matches()}: a non-empty abbreviation of {@code full}. */
    static boolean matches(String word, String full) {
        return !word.isEmpty() && full.startsWith(word);
    }

    static CommandException incomplete() {
        return new CommandException("Command line is not complete. Try option \"help\"", SYNTAX);
    }

    static CommandException invarg(String msg, String arg) {
        return new CommandException("Error: argument \"" + arg + "\" is wrong: " + msg, SYNTAX);
    }

    static CommandException duparg(String key, String arg) {
        return new CommandException("Error: duplicate \"" + key + "\": \"" + arg + "\" is the second value.", SYNTAX);
    }

    static CommandException duparg2(String key, String arg) {
        return new CommandException("Error: either \"" + key + "\" is duplicate, or \"" + arg + "\" is a garbage.",
                SYNTAX);
    }

    /** What {@code ip link set}, {@code ip addr add} say for a device that is not there. */
    static CommandException cannotFind(String dev) {
        return new CommandException("Cannot find device \"" + dev + "\"", FAILED);
    }

    /** What {@code ip link show}, {@code ip addr show|flush} say for a device that is not there. */
    static CommandException doesNotExist(String dev) {
        return new CommandException("Device \"" + dev + "\" does not exist.", FAILED);
    }

    static CommandException unknownCommand(String cmd, String object) {
        return new CommandException("Command \"" + cmd + "\" is unknown, try \"ip " + object + " help\".", SYNTAX);
    }

    /**
     * The kernel said no. With extended ack text (the detail the core gives, as
     * {@code "mtu greater than device maximum"}), iproute2 prints {@code Error: TEXT.}; without,
     * {@code RTNETLINK answers: STRERROR}.
     */
    static CommandException rtnl(NetException e) {
        String text = e.errno().text();
        String detail = e.getMessage();
        if (detail == null || detail.isBlank() || detail.equals(text)) {
            return new CommandException("RTNETLINK answers: " + text, KERNEL);
        }
        String msg = detail.startsWith("Error: ") ? detail : "Error: " + detail;
        return new CommandException(msg.endsWith(".") ? msg : msg + ".", KERNEL);
    }

    /** {@code check_ifname}: 1 to 15 characters, no slash, colon or white space. */
    static boolean validIfName(String name) {
        if (name.isEmpty() || name.length() >= 16 || name.equals(".") || name.equals("..")) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == ':' || Character.isWhitespace(c) || c < 0x20) {
                return false;
            }
        }
        return true;
    }

    /** {@code get_integer(&v, arg, 0)}: decimal, 0x hex or 0 octal, in int range; null if it is not. */
    static Integer parseInt(String s) {
        try {
            String t = s;
            boolean negative = false;
            if (t.startsWith("-") || t.startsWith("+")) {
                negative = t.startsWith("-");
                t = t.substring(1);
            }
            if (!t.matches("[0-9]+|0[xX][0-9a-fA-F]+")) {
                return null;
            }
            long v;
            if (t.startsWith("0x") || t.startsWith("0X")) {
                v = Long.parseLong(t.substring(2), 16);
            } else if (t.length() > 1 && t.startsWith("0")) {
                v = Long.parseLong(t.substring(1), 8);
            } else {
                v = Long.parseLong(t, 10);
            }
            v = negative ? -v : v;
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                return null;
            }
            return (int) v;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
