package org.modnet.shell.net;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.shell.CommandException;

/**
 * {@code tee [-a] FILE...}: copies standard input to standard output and writes it to each FILE, as
 * GNU coreutils' does (appended with {@code -a}), and, as {@code echo 2 | tee
 * /sys/class/net/eth0/napi_defer_hard_irqs} does on Linux, to modnet's own files in the session's
 * namespace: the device attributes under {@code /sys/class/net} that have a store method in
 * {@code net/core/net-sysfs.c} and that modnet keeps ({@code napi_defer_hard_irqs},
 * {@code gro_flush_timeout}; {@link SysClassNet}; the others are read-only, "Permission denied") and
 * the sysctls under {@code /proc/sys}. Files elsewhere are the host's. (This was the console's
 * {@code tee}, which wrote /sys and /proc paths to the host's files.)
 */
final class TeeCommand {
    private final Invocation inv;

    TeeCommand(Invocation inv) {
        this.inv = inv;
    }

    void run(List<String> words) {
        List<String> files = new ArrayList<>();
        boolean append = false;
        for (String w : words) {
            if (w.equals("-a") || w.equals("--append")) {
                append = true; // a sysfs attribute or a sysctl takes each write whole, appended or not
                continue;
            }
            if (w.startsWith("-") && w.length() > 1) {
                throw new CommandException("tee: invalid option -- '" + w.substring(1) + "'\nTry 'tee --help' for more information.", 1);
            }
            files.add(w);
        }
        StringBuilder text = new StringBuilder();
        try {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                inv.out().println(line);
                text.append(line).append('\n');
            }
        } catch (IOException e) {
            throw new CommandException("tee: standard input: " + e.getMessage(), 1);
        }
        List<String> errors = new ArrayList<>();
        for (String file : files) {
            String path = CatCommand.normalize(file);
            String error = path.startsWith("/sys/") || path.startsWith("/proc/sys/") ? write(path, text.toString())
                    : host(file, text.toString(), append);
            if (error != null) {
                errors.add("tee: " + file + ": " + error);
            }
        }
        if (!errors.isEmpty()) {
            throw new CommandException(String.join("\n", errors), 1);
        }
    }

    /** A file of the host's: written whole or appended to; null, or the error's text. */
    private static String host(String file, String text, boolean append) {
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of(file), text, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE,
                    append ? java.nio.file.StandardOpenOption.APPEND : java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
            return null;
        } catch (java.nio.file.NoSuchFileException e) {
            return "No such file or directory";
        } catch (java.nio.file.AccessDeniedException e) {
            return "Permission denied";
        } catch (IOException | RuntimeException e) {
            return e.getMessage();
        }
    }

    /** Stores {@code text} in modnet's attribute or sysctl at {@code path}; null, or the errno's text. */
    private String write(String path, String text) {
        if (path.startsWith("/proc/sys/")) {
            try {
                inv.namespace("tee").sysctl().set(path.substring("/proc/sys/".length()).replace('/', '.'), text.strip()); // proc_dointvec: one value
                return null;
            } catch (NetException e) {
                return e.errno() == org.modnet.api.net.Errno.ENOENT ? "No such file or directory" : e.errno().text();
            }
        }
        List<NetDevice> devices = inv.namespace("tee").devices();
        SysClassNet.Node node = SysClassNet.lookup(path, devices);
        if (node == null) {
            return "No such file or directory";
        }
        if (node.directory()) {
            return "Is a directory";
        }
        String[] parts = path.substring("/sys/class/net/".length()).split("/");
        if (parts.length != 2 || !SysClassNet.WRITABLE.contains(parts[1])) {
            return "Permission denied";
        }
        NetDevice dev = null;
        for (NetDevice d : devices) {
            if (d.name().equals(parts[0])) {
                dev = d;
            }
        }
        // kstrtoul: an unsigned decimal number, one trailing newline allowed
        String v = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        long n;
        try {
            if (v.isEmpty() || !Character.isDigit(v.charAt(0))) {
                return "Invalid argument";
            }
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            return v.chars().allMatch(Character::isDigit) ? "Numerical result out of range" : "Invalid argument";
        }
        try {
            if (parts[1].equals("napi_defer_hard_irqs")) {
                if (n > Integer.MAX_VALUE) {
                    return "Numerical result out of range"; // above S32_MAX
                }
                dev.setNapiDeferHardIrqs((int) n);
            } else {
                dev.setGroFlushTimeout(n);
            }
        } catch (NetException e) {
            return e.errno().text();
        }
        return null;
    }
}
