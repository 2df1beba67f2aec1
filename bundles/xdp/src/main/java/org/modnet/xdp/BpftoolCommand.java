package org.modnet.xdp;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.XdpHook;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.Disassembler;
import org.modnet.ebpf.api.LoadedProgram;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code bpftool} for what modnet has loaded: {@code prog show}, {@code prog dump xlated id N},
 * {@code map show}, {@code map dump|lookup|update|delete id N key B.. [value B..]} (bytes in hex or
 * decimal, as bpftool takes them), and {@code net show} (the XDP programs of the namespace's devices).
 */
@Component(service = BpftoolCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=bpftool" })
public final class BpftoolCommand {
    static final String USAGE = "Usage: bpftool prog { show | dump xlated id ID }\n"
            + "       bpftool map { show | dump id ID | lookup id ID key BYTES | update id ID key BYTES value BYTES | delete id ID key BYTES }\n"
            + "       bpftool net show";

    private final NetCore core;

    @Activate
    public BpftoolCommand(@Reference NetCore core) {
        this.core = core;
    }

    public void bpftool(CommandSession session, String... args) {
        List<String> w = args == null ? List.of() : Arrays.asList(args);
        PrintStream out = System.out;
        if (w.isEmpty()) {
            throw new CommandException(USAGE, 255);
        }
        switch (w.get(0)) {
            case "prog", "p" -> prog(out, w.subList(1, w.size()));
            case "map", "m" -> map(out, w.subList(1, w.size()));
            case "net", "n" -> net(out, Commands.namespace(core, session.get(Commands.NETNS), "bpftool"));
            default -> throw new CommandException("Error: unrecognized object '" + w.get(0) + "'\n" + USAGE, 255);
        }
    }

    private static void prog(PrintStream out, List<String> w) {
        String verb = w.isEmpty() ? "show" : w.get(0);
        switch (verb) {
            case "show", "list" -> {
                for (LoadedProgram p : LoadedProgram.all()) {
                    out.println(p.id() + ": " + p.type().name().toLowerCase(java.util.Locale.ROOT) + "  name " + p.name() + "  "
                            + (p.engine().equals("jit") ? "jited" : "interpreted"));
                    StringBuilder ids = new StringBuilder();
                    for (BpfMap m : p.maps()) {
                        ids.append(ids.isEmpty() ? "" : ",").append(m.id());
                    }
                    out.println("\txlated " + p.program().length() * 8 + "B  verified " + p.processed() + " insns"
                            + (ids.isEmpty() ? "" : "  map_ids " + ids));
                }
            }
            case "dump" -> {
                if (w.size() < 4 || !w.get(1).equals("xlated") || !w.get(2).equals("id")) {
                    throw new CommandException(USAGE, 255);
                }
                LoadedProgram p = program(w.get(3));
                List<String> lines = Disassembler.disassemble(p.program().instructions());
                for (int i = 0; i < lines.size(); i++) {
                    if (lines.get(i) != null) {
                        out.println(String.format("%4d: %s", i, lines.get(i)));
                    }
                }
            }
            default -> throw new CommandException("Error: unknown command '" + verb + "'\n" + USAGE, 255);
        }
    }

    private static LoadedProgram program(String id) {
        for (LoadedProgram p : LoadedProgram.all()) {
            if (String.valueOf(p.id()).equals(id)) {
                return p;
            }
        }
        throw new CommandException("Error: get by id (" + id + "): No such file or directory", 255);
    }

    private static List<BpfMap> maps() {
        List<BpfMap> all = new ArrayList<>();
        for (LoadedProgram p : LoadedProgram.all()) {
            for (BpfMap m : p.maps()) {
                if (all.stream().noneMatch(x -> x.id() == m.id())) {
                    all.add(m);
                }
            }
        }
        all.sort(java.util.Comparator.comparingInt(BpfMap::id));
        return all;
    }

    private static BpfMap map(String id) {
        return maps().stream().filter(m -> String.valueOf(m.id()).equals(id)).findFirst()
                .orElseThrow(() -> new CommandException("Error: get map by id (" + id + "): No such file or directory", 255));
    }

    private static String typeName(int type) {
        return switch (type) {
            case 1 -> "hash";
            case 2 -> "array";
            case 3 -> "prog_array";
            case 5 -> "percpu_hash";
            case 6 -> "percpu_array";
            case 9 -> "lru_hash";
            case 11 -> "lpm_trie";
            case 14 -> "devmap";
            case 16 -> "cpumap";
            case 25 -> "devmap_hash";
            default -> "type " + type;
        };
    }

    private static void map(PrintStream out, List<String> w) {
        String verb = w.isEmpty() ? "show" : w.get(0);
        if (verb.equals("show") || verb.equals("list")) {
            for (BpfMap m : maps()) {
                out.println(m.id() + ": " + typeName(m.type()) + "  name " + m.name() + "  flags 0x" + Integer.toHexString(m.flags()));
                out.println("\tkey " + m.keySize() + "B  value " + m.valueSize() + "B  max_entries " + m.maxEntries());
            }
            return;
        }
        if (w.size() < 3 || !w.get(1).equals("id")) {
            throw new CommandException(USAGE, 255);
        }
        BpfMap m = map(w.get(2));
        List<String> rest = w.subList(3, w.size());
        switch (verb) {
            case "dump" -> {
                List<byte[]> keys = m.keys();
                for (byte[] k : keys) {
                    byte[] v = m.lookup(k);
                    if (v != null) {
                        out.println("key: " + hex(k) + "  value: " + hex(v));
                    }
                }
                out.println("Found " + keys.size() + " element" + (keys.size() == 1 ? "" : "s"));
            }
            case "lookup" -> {
                byte[] k = bytes(rest, "key", m.keySize());
                byte[] v = m.lookup(k);
                if (v == null) {
                    throw new CommandException("Error: lookup failed: No such file or directory", 255);
                }
                out.println("key: " + hex(k) + "  value: " + hex(v));
            }
            case "update" -> {
                int r = m.update(bytes(rest, "key", m.keySize()), bytes(rest, "value", m.valueSize()), BpfMap.BPF_ANY);
                if (r < 0) {
                    throw new CommandException("Error: update failed: errno " + (-r), 255);
                }
            }
            case "delete" -> {
                int r = m.delete(bytes(rest, "key", m.keySize()));
                if (r < 0) {
                    throw new CommandException("Error: delete failed: " + (r == -2 ? "No such file or directory" : "errno " + (-r)), 255);
                }
            }
            default -> throw new CommandException("Error: unknown command '" + verb + "'\n" + USAGE, 255);
        }
    }

    /** The bytes after {@code word} ({@code key 0 0 0 0}, {@code value 0x01 2 ...}): exactly {@code n} of them. */
    private static byte[] bytes(List<String> w, String word, int n) {
        int at = w.indexOf(word);
        if (at < 0) {
            throw new CommandException("Error: did not find " + word, 255);
        }
        byte[] b = new byte[n];
        int i = 0;
        for (int k = at + 1; k < w.size() && i < n; k++) {
            String t = w.get(k);
            if (t.equals("key") || t.equals("value")) {
                break;
            }
            try {
                int v = t.startsWith("0x") ? Integer.parseInt(t.substring(2), 16) : Integer.parseInt(t);
                if (v < 0 || v > 255) {
                    throw new NumberFormatException();
                }
                b[i++] = (byte) v;
            } catch (NumberFormatException e) {
                throw new CommandException("Error: can't parse " + word + " byte '" + t + "'", 255);
            }
        }
        if (i != n) {
            throw new CommandException("Error: " + word + " expected " + n + " bytes got " + i, 255);
        }
        return b;
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(s.isEmpty() ? "" : " ").append(String.format("%02x", x & 0xff));
        }
        return s.toString();
    }

    private static void net(PrintStream out, NetNamespace ns) {
        out.println("xdp:");
        for (NetDevice d : ns.devices()) {
            XdpHook h = d.xdp();
            if (h instanceof EbpfXdpHook e) {
                out.println(d.name() + "(" + d.ifindex() + ") generic id " + e.program().id());
            } else if (h != null) {
                out.println(d.name() + "(" + d.ifindex() + ") generic " + h.describe());
            }
        }
    }
}
