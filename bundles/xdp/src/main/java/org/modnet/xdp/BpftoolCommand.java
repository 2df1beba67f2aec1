package org.modnet.xdp;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.XdpHook;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfObject;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.RingBuffer;
import org.modnet.ebpf.api.XdpContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code bpftool} for what modnet has loaded. Programs are named {@code id N}, {@code pinned PATH} or
 * {@code name NAME}; maps {@code id N} or {@code pinned PATH}:
 * {@code prog show|dump xlated|pin|load|loadall|run|tracelog}, {@code map show|dump|lookup|update|delete|pin|event_pipe}
 * (key and value bytes in hex or decimal, as bpftool takes them), and {@code net show|attach|detach}
 * for the XDP programs of the namespace's devices. Pins live in this instance's {@link BpfFs}.
 */
@Component(service = BpftoolCommand.class, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=bpftool" })
public final class BpftoolCommand {
    static final String USAGE = "Usage: bpftool prog { show [PROG] | dump xlated PROG | pin PROG FILE | load OBJ FILE [type { xdp | socket }] [pinmaps DIR] |"
            + " loadall OBJ DIR [pinmaps DIR] | run PROG data_in FILE [data_out FILE] [repeat N] | tracelog }\n"
            + "       bpftool map { show [MAP] | dump MAP | lookup MAP key BYTES | update MAP key BYTES value BYTES [noexist|exist|any] |"
            + " delete MAP key BYTES | pin MAP FILE | event_pipe MAP [count N] }\n"
            + "       bpftool net { show | attach { xdp | xdpgeneric | xdpdrv | xdpoffload } PROG dev NAME [overwrite] |"
            + " detach { xdp | xdpgeneric | xdpdrv | xdpoffload } dev NAME }\n"
            + "       PROG := { id PROG_ID | pinned FILE | name PROG_NAME }\n"
            + "       MAP := { id MAP_ID | pinned FILE }";

    private final NetCore core;
    private final BpfSyscall bpf;
    private final BpfFs fs;
    private final FibLookup fib;
    private final TracePipe trace;

    @Activate
    public BpftoolCommand(@Reference NetCore core, @Reference BpfSyscall bpf, @Reference BpfFs fs, @Reference FibLookup fib,
            @Reference TracePipe trace) {
        this.core = core;
        this.bpf = bpf;
        this.fs = fs;
        this.fib = fib;
        this.trace = trace;
    }

    public void bpftool(CommandSession session, String... args) {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        List<String> w = args == null ? List.of() : Arrays.asList(args);
        PrintStream out = System.out;
        if (w.isEmpty()) {
            throw new CommandException(USAGE, 255);
        }
        switch (w.get(0)) {
            case "prog", "p" -> prog(out, w.subList(1, w.size()));
            case "map", "m" -> map(out, w.subList(1, w.size()));
            case "net", "n" -> net(out, Commands.namespace(core, session.get(Commands.NETNS), "bpftool"), w.subList(1, w.size()));
            default -> throw new CommandException("Error: unrecognized object '" + w.get(0) + "'\n" + USAGE, 255);
        }
    }

    private void prog(PrintStream out, List<String> w) {
        String verb = w.isEmpty() ? "show" : w.get(0);
        List<String> rest = w.subList(Math.min(1, w.size()), w.size());
        switch (verb) {
            case "show", "list" -> {
                for (BpfProg p : rest.isEmpty() ? bpf.progs() : programs(rest)) {
                    out.println(p.id() + ": " + p.type().name().toLowerCase(java.util.Locale.ROOT) + "  name " + p.name() + "  "
                            + (p.jited() ? "jited" : "interpreted"));
                    StringBuilder ids = new StringBuilder();
                    for (BpfMap m : p.maps()) {
                        ids.append(ids.isEmpty() ? "" : ",").append(m.id());
                    }
                    out.println("\txlated " + p.xlated().length * 8 + "B  verified " + p.verifiedInsns() + " insns"
                            + (ids.isEmpty() ? "" : "  map_ids " + ids));
                    fs.pathsOf(p).forEach(path -> out.println("\tpinned " + path));
                }
            }
            case "dump" -> {
                if (rest.isEmpty() || !rest.get(0).equals("xlated")) {
                    throw new CommandException("Error: expected 'xlated' or 'jited', got: " + (rest.isEmpty() ? "nothing" : rest.get(0)), 255);
                }
                for (BpfProg p : programs(rest.subList(1, rest.size()))) {
                    List<String> lines = bpf.disassemble(p.xlated());
                    for (int i = 0; i < lines.size(); i++) {
                        if (lines.get(i) != null) {
                            out.println(String.format("%4d: %s", i, lines.get(i)));
                        }
                    }
                }
            }
            case "pin" -> {
                if (rest.size() != 3) {
                    throw new CommandException("Error: 'pin' needs PROG and FILE\n" + USAGE, 255);
                }
                List<BpfProg> l = programs(rest.subList(0, 2));
                if (l.size() != 1) {
                    throw new CommandException("Error: " + l.size() + " programs match, pin needs exactly one", 255);
                }
                fs.pin(rest.get(2), l.get(0));
            }
            case "load", "loadall" -> load(rest, verb.equals("loadall"));
            case "run" -> run(out, rest);
            case "tracelog" -> tracelog(out, rest);
            default -> throw new CommandException("Error: unknown command '" + verb + "'\n" + USAGE, 255);
        }
    }

    /**
     * {@code prog tracelog}: the trace pipe — each {@code bpf_trace_printk} line as it is written,
     * taken from the buffer, until the command is interrupted (Ctrl-C).
     */
    private void tracelog(PrintStream out, List<String> w) {
        if (!w.isEmpty()) {
            throw new CommandException("Error: 'tracelog' takes no arguments, got: '" + w.get(0) + "'", 255);
        }
        try {
            while (!Thread.currentThread().isInterrupted()) {
                String line = trace.take(100);
                if (line != null) {
                    out.println(line);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.flush();
    }

    /**
     * {@code prog run PROG data_in FILE [data_out FILE] [repeat N]} ({@code BPF_PROG_TEST_RUN}): the
     * program on the file's bytes as a frame, N times, as the kernel's test run does (the frame copied
     * and its context set once, not per run: {@link XdpContext#testRun}) — the last run's action, the
     * mean time per run in ns as bpftool prints {@code duration}, and the frame as the program left it.
     */
    private void run(PrintStream out, List<String> w) {
        if (w.size() < 4) {
            throw new CommandException("Error: 'run' needs PROG and data_in FILE\n" + USAGE, 255);
        }
        List<BpfProg> l = programs(w.subList(0, 2));
        if (l.size() != 1) {
            throw new CommandException("Error: " + l.size() + " programs match, run needs exactly one", 255);
        }
        String in = null;
        String outFile = null;
        long repeat = 1;
        for (int i = 2; i < w.size(); i += 2) {
            if (i + 1 >= w.size()) {
                throw new CommandException("Error: '" + w.get(i) + "' needs a value", 255);
            }
            String v = w.get(i + 1);
            switch (w.get(i)) {
                case "data_in" -> in = v;
                case "data_out" -> outFile = v;
                case "repeat" -> {
                    try {
                        repeat = Long.parseLong(v);
                    } catch (NumberFormatException e) {
                        repeat = -1;
                    }
                    if (repeat < 0 || repeat > 100_000_000) {
                        throw new CommandException("Error: repeat must be 0 to 100000000, not '" + v + "'", 255);
                    }
                    repeat = Math.max(1, repeat); // the kernel runs a repeat of 0 once
                }
                default -> throw new CommandException("Error: unknown keyword '" + w.get(i) + "'\n" + USAGE, 255);
            }
        }
        if (in == null) {
            throw new CommandException("Error: 'data_in' is required", 255);
        }
        byte[] data;
        try {
            data = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(in));
        } catch (java.io.IOException e) {
            throw new CommandException("Error: failed to open " + in + ": No such file or directory", 255);
        }
        if (data.length < 14 || data.length > 65535) {
            throw new CommandException("Error: data_in must hold an Ethernet frame: 14 to 65535 bytes, not " + data.length, 255);
        }
        BpfProg p = l.get(0);
        java.lang.foreign.MemorySegment buf = java.lang.foreign.Arena.ofAuto().allocate(RUN_HEADROOM + data.length + 256, 64);
        java.lang.foreign.MemorySegment.copy(data, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, RUN_HEADROOM, data.length);
        XdpContext x = p.xdpContext(0);
        // bpf_prog_test_run_xdp: the frame and its context prepared once, the program run `repeat` times on
        // them; the kernel's timer leaves out the time the thread was rescheduled, as the thread's CPU time does
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        boolean cpu = threads.isCurrentThreadCpuTimeSupported();
        long start = cpu ? threads.getCurrentThreadCpuTime() : System.nanoTime();
        int action = x.testRun(buf, RUN_HEADROOM, data.length, 1, 0, repeat);
        long mean = ((cpu ? threads.getCurrentThreadCpuTime() : System.nanoTime()) - start) / repeat;
        out.println("Return value: " + action + ", duration" + (repeat > 1 ? " (average)" : "") + ": " + mean + "ns");
        if (outFile != null) {
            byte[] result = buf.asSlice(x.data(), x.length()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            try {
                java.nio.file.Files.write(java.nio.file.Path.of(outFile), result);
            } catch (java.io.IOException e) {
                throw new CommandException("Error: failed to write " + outFile + ": " + e.getMessage(), 255);
            }
        }
    }

    /** {@code XDP_PACKET_HEADROOM} before the test frame. */
    private static final int RUN_HEADROOM = 256;

    /** The programs a PROG spec names ({@code id N}, {@code pinned FILE}, {@code name NAME}); an error when none. */
    private List<BpfProg> programs(List<String> spec) {
        if (spec.size() != 2) {
            throw new CommandException("Error: expected PROG := { id PROG_ID | pinned FILE | name PROG_NAME }", 255);
        }
        String v = spec.get(1);
        List<BpfProg> l = switch (spec.get(0)) {
            case "id" -> bpf.progs().stream().filter(p -> String.valueOf(p.id()).equals(v)).toList();
            case "name" -> bpf.progs().stream().filter(p -> p.name().equals(v)).toList();
            case "pinned" -> {
                if (!(fs.get(v) instanceof BpfProg p)) {
                    throw new CommandException("Error: incorrect object type: map", 255);
                }
                yield List.of(p);
            }
            default -> throw new CommandException("Error: expected 'id', 'name' or 'pinned', got: '" + spec.get(0) + "'?", 255);
        };
        if (l.isEmpty()) {
            throw new CommandException(spec.get(0).equals("name") ? "Error: can't find requested program name (" + v + ")"
                    : "Error: get by id (" + v + "): No such file or directory", 255);
        }
        return l;
    }

    /**
     * {@code prog load OBJ FILE}: the object's first program loaded and pinned at FILE; {@code loadall OBJ DIR}
     * every program, each pinned at DIR/NAME. {@code pinmaps DIR} pins the object's maps too. The
     * program type comes from the section ("xdp", "xdp/...", "socket") or {@code type} ({@code xdp}, or {@code socket}
     * for a socket filter, {@code BPF_PROG_TYPE_SOCKET_FILTER}, that a socket attaches with {@code SO_ATTACH_BPF}).
     */
    private void load(List<String> w, boolean all) {
        if (w.size() < 2) {
            throw new CommandException("Error: '" + (all ? "loadall" : "load") + "' needs OBJ and " + (all ? "DIR" : "FILE") + "\n" + USAGE, 255);
        }
        String file = w.get(0);
        String target = w.get(1);
        String type = null;
        String pinmaps = null;
        for (int i = 2; i < w.size(); i++) {
            String k = w.get(i);
            if (i + 1 >= w.size() || !(k.equals("type") || k.equals("pinmaps"))) {
                throw new CommandException("Error: expected no more arguments, 'type', 'map' or 'dev', got: '" + k + "'?", 255);
            }
            if (k.equals("type")) {
                type = w.get(++i);
            } else {
                pinmaps = w.get(++i);
            }
        }
        ProgType asked = type == null ? null : switch (type) {
            case "xdp" -> ProgType.XDP;
            case "socket" -> ProgType.SOCKET_FILTER;
            default -> throw new CommandException("Error: program type '" + type + "' is not supported by modnet (xdp and socket are)", 255);
        };
        BpfFs.path(all ? target + "/x" : target); // refuse a path outside the bpf fs before loading anything
        BpfObject o;
        try {
            o = bpf.objOpen(java.nio.file.Files.readAllBytes(java.nio.file.Path.of(file)));
        } catch (java.io.IOException e) {
            throw new CommandException("Error: failed to open object file " + file + ": No such file or directory", 255);
        } catch (BpfException e) {
            throw new CommandException("Error: failed to open object file " + file + ": " + e.getMessage(), 255);
        }
        List<BpfObject.ProgramDef> defs = all ? o.programs() : o.programs().stream().limit(1).toList();
        if (defs.isEmpty()) {
            throw new CommandException("Error: object file " + file + " doesn't contain any bpf program", 255);
        }
        List<ProgType> types = new ArrayList<>();
        for (BpfObject.ProgramDef d : defs) {
            ProgType t = asked != null ? asked : guessType(d.section());
            if (t == null) {
                throw new CommandException("Error: failed to guess program type from ELF section '" + d.section()
                        + "' (modnet loads xdp and socket programs; pass 'type xdp' or 'type socket' to load it as one)", 255);
            }
            types.add(t);
        }
        List<BpfProg> loaded = new ArrayList<>();
        List<String> pinned = new ArrayList<>();
        boolean done = false;
        try {
            List<BpfMap> maps = o.createMaps(core.cpus());
            for (int k = 0; k < defs.size(); k++) {
                BpfObject.ProgramDef d = defs.get(k);
                ProgType t = types.get(k);
                loaded.add(bpf.progLoad(d, t, t == ProgType.XDP ? AttachType.ofSection(d.section()) : AttachType.DEFAULT,
                        maps, t == ProgType.XDP ? fib.helpers() : null, trace::printk, BpfSyscall.JIT, false));
            }
            for (BpfProg p : loaded) {
                pinned.add(fs.pin(all ? target + "/" + p.name() : target, p));
            }
            if (pinmaps != null) {
                for (BpfMap m : maps) {
                    pinned.add(fs.pin(pinmaps + "/" + m.name(), m));
                }
            }
            done = true;
        } catch (BpfException e) {
            throw new CommandException("Error: failed to load object file: " + e.getMessage(), 255);
        } finally {
            if (!done) {
                pinned.forEach(fs::unpin); // all or nothing: a failure leaves no pin behind
            }
            loaded.forEach(BpfProg::close); // the pins hold what loaded
        }
    }

    /** libbpf's section names for the types modnet loads ({@code section_defs}); null for any other. */
    private static ProgType guessType(String section) {
        if (section.equals("xdp") || section.startsWith("xdp/") || section.startsWith("xdp.")) {
            return ProgType.XDP;
        }
        return section.equals("socket") || section.startsWith("socket/") ? ProgType.SOCKET_FILTER : null;
    }

    private List<BpfMap> maps() {
        List<BpfMap> all = new ArrayList<>(fs.maps());
        for (BpfMap m : bpf.maps()) {
            if (all.stream().noneMatch(x -> x.id() == m.id())) {
                all.add(m);
            }
        }
        all.sort(java.util.Comparator.comparingInt(BpfMap::id));
        return all;
    }

    /** The map a MAP spec ({@code id N}, {@code pinned FILE}) names. */
    private BpfMap map(String kind, String v) {
        if (kind.equals("pinned")) {
            if (!(fs.get(v) instanceof BpfMap m)) {
                throw new CommandException("Error: incorrect object type: prog", 255);
            }
            return m;
        }
        if (!kind.equals("id")) {
            throw new CommandException("Error: expected 'id' or 'pinned', got: '" + kind + "'?", 255);
        }
        return maps().stream().filter(m -> String.valueOf(m.id()).equals(v)).findFirst()
                .orElseThrow(() -> new CommandException("Error: get map by id (" + v + "): No such file or directory", 255));
    }

    private static String typeName(int type) {
        return switch (type) {
            case 1 -> "hash";
            case 2 -> "array";
            case 3 -> "prog_array";
            case 4 -> "perf_event_array";
            case 5 -> "percpu_hash";
            case 6 -> "percpu_array";
            case 9 -> "lru_hash";
            case 10 -> "lru_percpu_hash";
            case 11 -> "lpm_trie";
            case 12 -> "array_of_maps";
            case 13 -> "hash_of_maps";
            case 14 -> "devmap";
            case 16 -> "cpumap";
            case 17 -> "xskmap";
            case 22 -> "queue";
            case 23 -> "stack";
            case 25 -> "devmap_hash";
            case 27 -> "ringbuf";
            case 30 -> "bloom_filter";
            default -> "type " + type;
        };
    }

    private void map(PrintStream out, List<String> w) {
        String verb = w.isEmpty() ? "show" : w.get(0);
        if ((verb.equals("show") || verb.equals("list")) && w.size() <= 1) {
            maps().forEach(m -> show(out, m));
            return;
        }
        if (w.size() < 3) {
            throw new CommandException("Error: expected MAP := { id MAP_ID | pinned FILE }\n" + USAGE, 255);
        }
        BpfMap m = map(w.get(1), w.get(2));
        List<String> rest = w.subList(3, w.size());
        switch (verb) {
            case "show", "list" -> show(out, m);
            case "dump" -> {
                if (m instanceof RingBuffer) {
                    throw new CommandException("Error: can't dump map of type ringbuf: it has no keys (read it with 'bpftool map event_pipe')", 255);
                }
                List<byte[]> keys = m.keys();
                for (byte[] k : keys) {
                    byte[] v = m.lookup(k);
                    if (v != null) {
                        out.println(entry(m, k, v));
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
                out.println(entry(m, k, v));
            }
            case "update" -> {
                long how = rest.contains("noexist") ? BpfMap.BPF_NOEXIST : rest.contains("exist") ? BpfMap.BPF_EXIST : BpfMap.BPF_ANY;
                int r = m.update(bytes(rest, "key", m.keySize()), ofMaps(m) ? innerMap(rest) : bytes(rest, "value", m.valueSize()), how);
                if (r < 0) {
                    throw new CommandException("Error: update failed: " + errno(r), 255);
                }
            }
            case "delete" -> {
                int r = m.delete(bytes(rest, "key", m.keySize()));
                if (r < 0) {
                    throw new CommandException("Error: delete failed: " + errno(r), 255);
                }
            }
            case "pin" -> {
                if (rest.size() != 1) {
                    throw new CommandException("Error: 'pin' needs MAP and FILE\n" + USAGE, 255);
                }
                fs.pin(rest.get(0), m);
            }
            case "event_pipe" -> eventPipe(out, m, rest);
            default -> throw new CommandException("Error: unknown command '" + verb + "'\n" + USAGE, 255);
        }
    }

    private static boolean ofMaps(BpfMap m) {
        return m.type() == BpfMap.MAP_ARRAY_OF_MAPS || m.type() == BpfMap.MAP_HASH_OF_MAPS;
    }

    /** An entry as bpftool prints it: a map of maps' value is the inner map's id ({@code inner_map_id: 5}). */
    private static String entry(BpfMap m, byte[] k, byte[] v) {
        if (ofMaps(m) && v.length == 4) {
            return "key: " + hex(k) + "  inner_map_id: " + java.nio.ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        }
        return "key: " + hex(k) + "  value: " + hex(v);
    }

    /** A map of maps' update value: {@code value id N} or {@code value pinned FILE}, the inner map (its id, little-endian). */
    private byte[] innerMap(List<String> w) {
        int at = w.indexOf("value");
        if (at < 0) {
            throw new CommandException("Error: did not find value", 255);
        }
        if (at + 2 >= w.size()) {
            throw new CommandException("Error: value for a map of maps is a map: id MAP_ID or pinned FILE", 255);
        }
        String kind = w.get(at + 1);
        if (!kind.equals("id") && !kind.equals("pinned")) {
            throw new CommandException("Error: value for a map of maps is a map: id MAP_ID or pinned FILE, got '" + kind + "'", 255);
        }
        int id = map(kind, w.get(at + 2)).id();
        return new byte[] { (byte) id, (byte) (id >>> 8), (byte) (id >>> 16), (byte) (id >>> 24) };
    }

    private void show(PrintStream out, BpfMap m) {
        out.println(m.id() + ": " + typeName(m.type()) + "  name " + m.name() + "  flags 0x" + Integer.toHexString(m.flags()));
        out.println("\tkey " + m.keySize() + "B  value " + m.valueSize() + "B  max_entries " + m.maxEntries());
        fs.pathsOf(m).forEach(path -> out.println("\tpinned " + path));
    }

    /** What {@code strerror} says of a map operation's negative errno. */
    private static String errno(int r) {
        org.modnet.api.net.Errno e = org.modnet.api.net.Errno.of(-r);
        return e != null ? e.text() : "errno " + (-r);
    }

    /**
     * {@code map event_pipe MAP [count N]}: prints the records of a perf event array (what
     * {@code bpf_perf_event_output} wrote, every CPU's ring) or of a ring buffer as they arrive, each as a
     * header line and its bytes in hex, until N have come or the command is interrupted (Ctrl-C).
     */
    private static void eventPipe(PrintStream out, BpfMap m, List<String> w) {
        if (!(m instanceof RingBuffer ring)) {
            throw new CommandException("Error: map type " + typeName(m.type()) + " is neither a perf event array nor a ring buffer", 255);
        }
        long limit = Long.MAX_VALUE;
        if (w.size() == 2 && w.get(0).equals("count")) {
            try {
                limit = Long.parseLong(w.get(1));
            } catch (NumberFormatException e) {
                throw new CommandException("Error: can't parse count '" + w.get(1) + "'", 255);
            }
        } else if (!w.isEmpty()) {
            throw new CommandException("Error: expected 'count N' or nothing, got: '" + w.get(0) + "'", 255);
        }
        long[] seen = { 0 };
        long want = limit;
        while (seen[0] < want && !Thread.currentThread().isInterrupted()) {
            int n = ring.consume(r -> {
                if (seen[0]++ < want) {
                    java.time.Instant t = java.time.Instant.now();
                    out.println(String.format("== @%d.%09d %s: %d bytes =====", t.getEpochSecond(), t.getNano(), typeName(m.type()), r.length));
                    for (int i = 0; i < r.length; i += 16) {
                        out.println(hex(java.util.Arrays.copyOfRange(r, i, Math.min(r.length, i + 16))));
                    }
                }
            });
            if (n == 0) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        out.flush();
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
            if (t.equals("key") || t.equals("value") || t.equals("any") || t.equals("exist") || t.equals("noexist")) {
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

    private void net(PrintStream out, NetNamespace ns, List<String> w) {
        String verb = w.isEmpty() ? "show" : w.get(0);
        switch (verb) {
            case "show", "list" -> {
                out.println("xdp:");
                for (NetDevice d : ns.devices()) {
                    XdpHook h = d.xdp();
                    String mode = d.xdpNative() ? "driver" : "generic";
                    if (h instanceof EbpfXdpHook e) {
                        out.println(d.name() + "(" + d.ifindex() + ") " + mode + " id " + e.program().id());
                    } else if (h != null) {
                        out.println(d.name() + "(" + d.ifindex() + ") " + mode + " " + h.describe());
                    }
                }
            }
            case "attach" -> attach(ns, w.subList(1, w.size()));
            case "detach" -> detach(ns, w.subList(1, w.size()));
            default -> throw new CommandException("Error: unknown command '" + verb + "'\n" + USAGE, 255);
        }
    }

    /** The attach type named and the device after {@code dev}. */
    private static NetDevice device(NetNamespace ns, List<String> w, int at) {
        if (w.size() < at + 2 || !w.get(at).equals("dev")) {
            throw new CommandException("Error: expected 'dev', got: '" + (w.size() > at ? w.get(at) : "") + "'?\n" + USAGE, 255);
        }
        NetDevice d = ns.device(w.get(at + 1));
        if (d == null) {
            throw new CommandException("Error: invalid devname " + w.get(at + 1), 255);
        }
        return d;
    }

    private static String attachType(String t) {
        return switch (t) {
            case "xdp", "xdpgeneric", "xdpdrv" -> t;
            case "xdpoffload" -> throw new CommandException("Error: interface xdpoffload attach failed: Operation not supported", 255);
            default -> throw new CommandException("Error: invalid net attach/detach type: " + t, 255);
        };
    }

    /** {@code net attach TYPE PROG dev NAME [overwrite]}: a device with a program already refuses unless told to overwrite. */
    private void attach(NetNamespace ns, List<String> w) {
        if (w.isEmpty()) {
            throw new CommandException(USAGE, 255);
        }
        String type = attachType(w.get(0));
        List<BpfProg> l = programs(w.subList(1, Math.min(3, w.size())));
        if (l.size() != 1) {
            throw new CommandException("Error: " + l.size() + " programs match, attach needs exactly one", 255);
        }
        BpfProg p = l.get(0);
        if (p.type() != ProgType.XDP) {
            throw new CommandException("Error: invalid program type " + p.type().name().toLowerCase(java.util.Locale.ROOT) + " for xdp", 255);
        }
        String refused = EbpfXdpHook.notForADevice(p);
        if (refused != null) {
            throw new CommandException("Error: interface " + type + " attach failed: " + refused, 255);
        }
        NetDevice d = device(ns, w, 3);
        boolean overwrite = w.size() > 5 && w.get(5).equals("overwrite");
        XdpHook old = d.xdp();
        if (old != null && !overwrite) {
            throw new CommandException("Error: interface " + type + " attach failed: Device or resource busy", 255);
        }
        // xdpdrv asks for the driver's own hook, xdpgeneric for the generic one, xdp takes native where there is one
        boolean nativeMode = type.equals("xdpdrv") || (type.equals("xdp") && d.supportsNativeXdp());
        EbpfXdpHook hook = new EbpfXdpHook(bpf, p.hold());
        try {
            d.setXdp(hook, nativeMode);
        } catch (NetException e) {
            hook.close();
            throw new CommandException("Error: interface " + type + " attach failed: " + (e.errno() == org.modnet.api.net.Errno.EOPNOTSUPP
                    ? "Operation not supported" : e.getMessage()), 255);
        }
        if (old != null) {
            old.close();
        }
    }

    private static void detach(NetNamespace ns, List<String> w) {
        if (w.isEmpty()) {
            throw new CommandException(USAGE, 255);
        }
        attachType(w.get(0));
        NetDevice d = device(ns, w, 1);
        XdpHook old = d.xdp();
        if (old == null) {
            return; // as bpftool: detaching nothing succeeds
        }
        try {
            d.setXdp(null);
        } catch (NetException e) {
            throw new CommandException("Error: interface detach failed: " + e.getMessage(), 255);
        }
        old.close();
    }
}
