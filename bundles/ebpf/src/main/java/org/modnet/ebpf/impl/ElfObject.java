package org.modnet.ebpf.impl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.modnet.ebpf.api.Bpf;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfObject;
import org.modnet.ebpf.api.ProgType;

/**
 * An eBPF object file as stock clang writes it ({@code clang -O2 -g -target bpf -c}), read as libbpf
 * reads it: every global function in an executable section other than {@code .text} is a program;
 * calls into {@code .text} (relocated against it) bring the functions of {@code .text} they reach, and
 * those these call, appended after the program (an uncalled function is left out); {@code lddw} relocations against a map become map references ({@code src} 1, imm the
 * map's index); maps come from the legacy {@code maps} section ({@code struct bpf_map_def}) or, for
 * {@code .maps}, from BTF (the section's bytes are zeros). Anything malformed — not ELF, not 64-bit
 * little-endian eBPF, truncated tables, bad indexes, relocations that are not on an lddw or a call —
 * is a {@link BpfException} and nothing is loaded.
 */
public final class ElfObject implements BpfObject {
    /** The object's maps created ({@code cpus} values for the per-CPU types), data sections filled. */
    @Override
    public List<BpfMap> createMaps(int cpus) throws BpfException {
        return java.util.Collections.unmodifiableList(createMapsBase(cpus));
    }

    /** {@link #createMaps}, as this implementation's maps. */
    public List<BpfMapBase> createMapsBase(int cpus) throws BpfException {
        List<BpfMapBase> out = new ArrayList<>();
        for (MapDef m : maps) {
            MapDef in = inner.get(m.name());
            BpfMapBase map = in != null
                    ? BpfMapBase.createOuter(0, m.name(), m.type(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags(),
                            new MapSpec.Template(in.name(), in.type(), in.keySize(), in.valueSize(), in.maxEntries(), in.flags()))
                    : BpfMapBase.create(0, m.name(), m.type(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags(), m.mapExtra(), cpus);
            if (m.data() != null && map.update(new byte[4], m.data(), BpfMap.BPF_ANY) != 0) {
                throw new BpfException("map " + m.name() + ": its initial data does not fit");
            }
            out.add(map);
        }
        for (Map.Entry<String, Map<Integer, String>> e : initialInner.entrySet()) {
            BpfMapBase outer = out.stream().filter(m -> m.name().equals(e.getKey())).findFirst().orElseThrow();
            for (Map.Entry<Integer, String> slot : e.getValue().entrySet()) {
                BpfMapBase in = out.stream().filter(m -> m.name().equals(slot.getValue())).findFirst()
                        .orElseThrow(() -> new BpfException("map " + e.getKey() + ": slot " + slot.getKey() + " names " + slot.getValue()
                                + ", which is not a map of the object"));
                int k = slot.getKey();
                int id = in.id();
                int r = outer.update(new byte[] { (byte) k, (byte) (k >>> 8), (byte) (k >>> 16), (byte) (k >>> 24) },
                        new byte[] { (byte) id, (byte) (id >>> 8), (byte) (id >>> 16), (byte) (id >>> 24) }, BpfMap.BPF_ANY);
                if (r != 0) {
                    throw new BpfException("map " + e.getKey() + ": can't set slot " + k + " to map " + slot.getValue() + " (errno " + -r + ")");
                }
            }
        }
        return out;
    }

    private static final int EM_BPF = 247;
    private static final int SHT_SYMTAB = 2;
    private static final int SHT_REL = 9;
    private static final int SHF_EXECINSTR = 4;
    private static final int STT_FUNC = 2;
    private static final int STB_GLOBAL = 1;
    private static final int R_BPF_64_64 = 1;
    private static final int R_BPF_64_32 = 10;

    private final ByteBuffer b;
    private final List<Section> sections = new ArrayList<>();
    private final List<Symbol> symbols = new ArrayList<>();
    private final List<MapDef> maps = new ArrayList<>();
    /** The inner map templates of the arrays and hashes of maps, by the outer map's name. */
    private final Map<String, MapDef> inner = new HashMap<>();
    /** Where in {@code .maps} each map of maps' {@code values} array lies: [its first byte, its end], by the map's name. */
    private final Map<String, long[]> valuesAt = new HashMap<>();
    /** A map of maps' initial slots ({@code .values = { [1] = &inner_a }}): slot to inner map name, by the outer map's name. */
    private final Map<String, Map<Integer, String>> initialInner = new HashMap<>();
    private final List<ProgramDef> programs = new ArrayList<>();
    /** The object's BTF, read once at its first use; null until then, or without a .BTF section. */
    private Btf btf;
    private String license = "";

    private record Section(int index, String name, int type, long flags, long offset, long size, int link, int info) {
    }

    private record Symbol(String name, int type, int bind, int section, long value, long size) {
    }

    private ElfObject(byte[] bytes) {
        this.b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Reads the object; throws what is wrong with it. */
    public static ElfObject parse(byte[] bytes) throws BpfException {
        ElfObject o = new ElfObject(bytes);
        try {
            o.read();
        } catch (IndexOutOfBoundsException | IllegalArgumentException | java.nio.BufferUnderflowException e) {
            throw new BpfException("the ELF object is truncated or corrupt: " + e.getMessage());
        }
        return o;
    }

    public String license() {
        return license;
    }

    public List<MapDef> maps() {
        return List.copyOf(maps);
    }

    public List<ProgramDef> programs() {
        return List.copyOf(programs);
    }

    /** The program of that section (the first one there), or null. */
    public ProgramDef program(String section) {
        return programs.stream().filter(p -> p.section().equals(section)).findFirst().orElse(null);
    }

    private void read() throws BpfException {
        if (b.limit() < 64 || b.getInt(0) != 0x464c457f) {
            throw new BpfException("not an ELF file");
        }
        if (b.get(4) != 2 || b.get(5) != 1) {
            throw new BpfException("not a 64-bit little-endian ELF file");
        }
        if (Short.toUnsignedInt(b.getShort(18)) != EM_BPF) {
            throw new BpfException("not an eBPF object (e_machine " + Short.toUnsignedInt(b.getShort(18)) + ", eBPF is 247)");
        }
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3a));
        int shnum = Short.toUnsignedInt(b.getShort(0x3c));
        int shstrndx = Short.toUnsignedInt(b.getShort(0x3e));
        if (shentsize != 64 || shoff < 0 || shoff + (long) shnum * 64 > b.limit() || shstrndx >= shnum) {
            throw new BpfException("the section header table is out of the file");
        }
        long[][] raw = new long[shnum][];
        for (int i = 0; i < shnum; i++) {
            int h = (int) (shoff + 64L * i);
            raw[i] = new long[] { b.getInt(h) & 0xffffffffL, b.getInt(h + 4), b.getLong(h + 8), b.getLong(h + 24), b.getLong(h + 32),
                    b.getInt(h + 40), b.getInt(h + 44) };
            long off = raw[i][3];
            long size = raw[i][4];
            if (raw[i][1] != 8 && raw[i][1] != 0 && (off < 0 || size < 0 || off > b.limit() || size > b.limit() - off)) { // no overflow
                throw new BpfException("section " + i + " lies outside the file");
            }
        }
        long strOff = raw[shstrndx][3];
        long strSize = raw[shstrndx][4];
        for (int i = 0; i < shnum; i++) {
            String name = string(strOff, strSize, raw[i][0]);
            sections.add(new Section(i, name, (int) raw[i][1], raw[i][2], raw[i][3], raw[i][4], (int) raw[i][5], (int) raw[i][6]));
        }
        Section symtab = sections.stream().filter(s -> s.type() == SHT_SYMTAB).findFirst()
                .orElseThrow(() -> new BpfException("no symbol table"));
        if (symtab.link() >= shnum) {
            throw new BpfException("the symbol table's string table does not exist");
        }
        Section symstr = sections.get(symtab.link());
        for (long at = symtab.offset(); at + 24 <= symtab.offset() + symtab.size(); at += 24) {
            int p = (int) at;
            int info = b.get(p + 4) & 0xff;
            symbols.add(new Symbol(string(symstr.offset(), symstr.size(), b.getInt(p) & 0xffffffffL), info & 0xf, info >> 4,
                    Short.toUnsignedInt(b.getShort(p + 6)), b.getLong(p + 8), b.getLong(p + 16)));
        }
        Section lic = named("license");
        if (lic != null) {
            byte[] text = bytes(lic);
            int end = 0;
            while (end < text.length && text[end] != 0) {
                end++;
            }
            license = new String(text, 0, end, StandardCharsets.UTF_8);
        }
        readMaps();
        readPrograms();
    }

    private Section named(String name) {
        return sections.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    }

    private byte[] bytes(Section s) throws BpfException {
        if (s.type() == 8 || s.offset() < 0 || s.size() < 0 || s.offset() > b.limit() || s.size() > b.limit() - s.offset()) {
            throw new BpfException("section " + s.name() + " has no bytes in the file");
        }
        byte[] out = new byte[(int) s.size()];
        b.get((int) s.offset(), out);
        return out;
    }

    private String string(long tableOff, long tableSize, long at) throws BpfException {
        if (at < 0 || at >= tableSize) {
            throw new BpfException("a name's offset " + at + " is outside its string table");
        }
        int start = (int) (tableOff + at);
        int end = start;
        while (end < tableOff + tableSize && b.get(end) != 0) {
            end++;
        }
        byte[] s = new byte[end - start];
        b.get(start, s);
        return new String(s, StandardCharsets.UTF_8);
    }

    // --- maps ---

    private void readMaps() throws BpfException {
        Section legacy = named("maps");
        if (legacy != null) {
            for (Symbol s : symbols) {
                if (s.section() == legacy.index() && s.type() != 3 && !s.name().isEmpty()) {
                    if (s.value() + 20 > legacy.size()) {
                        throw new BpfException("map " + s.name() + ": its bpf_map_def lies outside the maps section");
                    }
                    int p = (int) (legacy.offset() + s.value());
                    maps.add(new MapDef(s.name(), b.getInt(p), b.getInt(p + 4), b.getInt(p + 8), b.getInt(p + 12), b.getInt(p + 16)));
                }
            }
        }
        Section btfMaps = named(".maps");
        List<MapDef> data = new ArrayList<>();
        for (Section sec : sections) {
            boolean dataSection = sec.name().startsWith(".rodata") || sec.name().startsWith(".data") || sec.name().startsWith(".bss");
            if (dataSection && (sec.type() == 1 || sec.type() == 8) && sec.size() > 0) {
                byte[] init = sec.type() == 8 ? new byte[(int) sec.size()] : bytes(sec);
                int flags = sec.name().startsWith(".rodata") ? BpfMap.BPF_F_RDONLY_PROG : 0;
                data.add(new MapDef(sec.name(), 2, 4, (int) sec.size(), 1, flags, init));
            }
        }
        if (btfMaps != null) {
            if (btf() == null) {
                throw new BpfException("the .maps section needs BTF (build with -g)");
            }
            maps.addAll(btf.maps());
            // libbpf's init_map_in_map_slots: a relocation in .maps against a map fills a map of maps' slot
            for (long[] r : relocations(btfMaps)) {
                long at = r[0] * 8;
                for (Map.Entry<String, long[]> e : valuesAt.entrySet()) {
                    if (at >= e.getValue()[0] && at < e.getValue()[1]) {
                        initialInner.computeIfAbsent(e.getKey(), x -> new java.util.TreeMap<>())
                                .put((int) ((at - e.getValue()[0]) / 8), symbols.get((int) r[1]).name());
                    }
                }
            }
        }
        maps.addAll(data); // after the object's own maps, as libbpf adds its internal maps
    }

    /** The BTF type section: enough of it to read map definitions from the ".maps" DATASEC. */
    private final class Btf {
        private final List<int[]> types = new ArrayList<>(); // [kind, nameOff, sizeOrType, vlen, dataPos]
        private final int strings;
        private final int stringsLen;

        Btf(Section s) throws BpfException {
            int base = (int) s.offset();
            if (s.size() < 24 || Short.toUnsignedInt(b.getShort(base)) != 0xeb9f) {
                throw new BpfException("the .BTF section is not BTF");
            }
            int hdr = b.getInt(base + 4);
            int typeOff = b.getInt(base + 8);
            int typeLen = b.getInt(base + 12);
            int strOff = b.getInt(base + 16);
            int strLen = b.getInt(base + 20);
            if (hdr < 24 || typeOff < 0 || typeLen < 0 || strOff < 0 || strLen < 0
                    || (long) hdr + typeOff + typeLen > s.size() || (long) hdr + strOff + strLen > s.size()) {
                throw new BpfException("BTF: the type or string section lies outside .BTF");
            }
            strings = base + hdr + strOff;
            stringsLen = strLen;
            types.add(new int[] { 0, 0, 0, 0, 0 }); // type 0 is void
            int p = base + hdr + typeOff;
            int end = p + typeLen;
            while (p < end) {
                int nameOff = b.getInt(p);
                int info = b.getInt(p + 4);
                int sizeOrType = b.getInt(p + 8);
                int kind = (info >>> 24) & 0x1f;
                int vlen = info & 0xffff;
                int data = p + 12;
                int extra = switch (kind) {
                    case 1, 14, 17 -> 4; // INT, VAR, DECL_TAG
                    case 3 -> 12; // ARRAY
                    case 4, 5 -> 12 * vlen; // STRUCT, UNION
                    case 6 -> 8 * vlen; // ENUM
                    case 13 -> 8 * vlen; // FUNC_PROTO
                    case 15 -> 12 * vlen; // DATASEC
                    case 19 -> 12 * vlen; // ENUM64
                    case 2, 7, 8, 9, 10, 11, 12, 16, 18 -> 0;
                    default -> throw new BpfException("BTF: unknown kind " + kind);
                };
                types.add(new int[] { kind, nameOff, sizeOrType, vlen, data });
                p = data + extra;
            }
            if (p != end) {
                throw new BpfException("BTF: the type section does not end on a type");
            }
        }

        private String name(int off) throws BpfException {
            return string(strings - (long) 0, stringsLen, off);
        }

        private int[] type(int id) throws BpfException {
            if (id <= 0 || id >= types.size()) {
                throw new BpfException("BTF: type id " + id + " does not exist");
            }
            return types.get(id);
        }

        /** Through typedefs, const, volatile, restrict and type tags. */
        private int resolve(int id) throws BpfException {
            for (int n = 0; n < 32; n++) {
                int[] t = type(id);
                if (t[0] == 8 || t[0] == 9 || t[0] == 10 || t[0] == 11 || t[0] == 18) {
                    id = t[2];
                } else {
                    return id;
                }
            }
            throw new BpfException("BTF: a loop of type modifiers");
        }

        private int size(int id) throws BpfException {
            int[] t = type(resolve(id));
            return switch (t[0]) {
                case 1, 4, 5, 6, 16, 19 -> t[2];
                case 2 -> 8;
                case 3 -> b.getInt(t[4] + 8) * size(b.getInt(t[4]));
                default -> throw new BpfException("BTF: type " + id + " has no size");
            };
        }

        /** Whether FUNC {@code name}'s prototype returns an int of at most 8 bytes or an enum; null if BTF has no such FUNC. */
        Boolean returnsScalar(String name) throws BpfException {
            for (int id = 1; id < types.size(); id++) {
                int[] t = types.get(id);
                if (t[0] == 12 && name(t[1]).equals(name)) {
                    int[] proto = type(resolve(t[2]));
                    if (proto[0] != 13) {
                        return null;
                    }
                    if (proto[2] == 0) {
                        return false; // void
                    }
                    int[] ret = type(resolve(proto[2]));
                    return ret[0] == 1 && ret[2] <= 8 || ret[0] == 6 || ret[0] == 19;
                }
            }
            return null;
        }

        /**
         * FUNC {@code name}'s arguments when it is global ({@code BTF_FUNC_GLOBAL} linkage) and each is a
         * number (0: an int or enum) or the context of {@code type} (1: a pointer to {@code struct xdp_md} for
         * XDP, {@code struct __sk_buff} for tc and socket filters, as {@code btf_is_prog_ctx_type} takes
         * them); null for a static function, one with other arguments, or none in BTF.
         */
        int[] globalArgs(String name, ProgType type) throws BpfException {
            for (int id = 1; id < types.size(); id++) {
                int[] t = types.get(id);
                if (t[0] != 12 || !name(t[1]).equals(name)) {
                    continue;
                }
                int[] proto = type(resolve(t[2]));
                if (t[3] != 1 || proto[0] != 13 || proto[3] > 5) {
                    return null;
                }
                String ctx = type == ProgType.XDP ? "xdp_md" : type == ProgType.SCHED_CLS || type == ProgType.SOCKET_FILTER ? "__sk_buff" : null;
                int[] args = new int[proto[3]];
                for (int a = 0; a < args.length; a++) {
                    int[] at = type(resolve(b.getInt(proto[4] + 8 * a + 4)));
                    if (at[0] == 1 || at[0] == 6 || at[0] == 19) {
                        args[a] = 0;
                        continue;
                    }
                    int[] to = at[0] == 2 && at[2] != 0 ? type(resolve(at[2])) : null;
                    if (to != null && to[0] == 4 && ctx != null && name(to[1]).equals(ctx)) {
                        args[a] = 1;
                        continue;
                    }
                    return null;
                }
                return args;
            }
            return null;
        }

        /** A map definition's attributes, by name; {@code inner[0]} the struct {@code __array(values, ...)} points to, if any. */
        private Map<String, Integer> attributes(int[] st, String mapName, int[] inner) throws BpfException {
            Map<String, Integer> attr = new HashMap<>();
            for (int m = 0; m < st[3]; m++) {
                int mp = st[4] + 12 * m;
                String member = name(b.getInt(mp));
                int mt = b.getInt(mp + 4);
                switch (member) {
                    case "type", "max_entries", "map_flags", "key_size", "value_size", "map_extra" -> attr.put(member, arrayLength(mt));
                    case "key", "value" -> {
                        int[] ptr = type(resolve(mt));
                        if (ptr[0] != 2) {
                            throw new BpfException("BTF: map " + mapName + "'s " + member + " is not a pointer");
                        }
                        attr.put(member + "_size", size(ptr[2]));
                    }
                    case "values" -> {
                        // __array(values, struct inner) in a map of maps; a prog array's __array(values, int (void *)) names programs
                        int[] arr = type(resolve(mt));
                        int[] ptr = arr[0] == 3 ? type(resolve(b.getInt(arr[4]))) : null;
                        int target = ptr != null && ptr[0] == 2 ? resolve(ptr[2]) : 0;
                        if (target != 0 && type(target)[0] == 4) {
                            inner[0] = target;
                        }
                    }
                    default -> {
                    }
                }
            }
            return attr;
        }

        /** The byte offset of a map definition's {@code values} member. */
        private long valuesOffset(int[] st) throws BpfException {
            for (int m = 0; m < st[3]; m++) {
                int mp = st[4] + 12 * m;
                if (name(b.getInt(mp)).equals("values")) {
                    return (b.getInt(mp + 8) & 0xffffffL) / 8;
                }
            }
            return 0;
        }

        /** {@code int (*name)[N]}: N. */
        private int arrayLength(int ptr) throws BpfException {
            int[] p = type(resolve(ptr));
            if (p[0] != 2) {
                throw new BpfException("BTF: a map attribute is not a pointer to an array");
            }
            int[] a = type(resolve(p[2]));
            if (a[0] != 3) {
                throw new BpfException("BTF: a map attribute is not a pointer to an array");
            }
            return b.getInt(a[4] + 8);
        }

        List<MapDef> maps() throws BpfException {
            List<MapDef> out = new ArrayList<>();
            for (int[] t : types) {
                if (t[0] != 15 || !name(t[1]).equals(".maps")) {
                    continue;
                }
                for (int k = 0; k < t[3]; k++) {
                    int varId = b.getInt(t[4] + 12 * k);
                    int[] var = type(varId);
                    if (var[0] != 14) {
                        throw new BpfException("BTF: .maps holds something that is not a variable");
                    }
                    int[] st = type(resolve(var[2]));
                    if (st[0] != 4) {
                        throw new BpfException("BTF: map " + name(var[1]) + " is not a struct");
                    }
                    String name = name(var[1]);
                    int[] innerStruct = new int[1];
                    Map<String, Integer> attr = attributes(st, name, innerStruct);
                    if (innerStruct[0] != 0) {
                        // __array(values, struct inner): the inner map template; the outer map's values are maps (4 bytes)
                        int type = attr.getOrDefault("type", 0);
                        if (type != Verifier.MAP_ARRAY_OF_MAPS && type != Verifier.MAP_HASH_OF_MAPS) {
                            throw new BpfException("map " + name + ": values of maps need an array or hash of maps (type 12 or 13), not " + type);
                        }
                        // where the variable is: its ELF symbol's (clang leaves the DATASEC offsets 0; libbpf fixes them from the symbols)
                        Section mapsSection = named(".maps");
                        Symbol sym = symbols.stream().filter(x -> x.name().equals(name) && mapsSection != null && x.section() == mapsSection.index())
                                .findFirst().orElse(null);
                        if (sym != null) {
                            valuesAt.put(name, new long[] { sym.value() + valuesOffset(st), sym.value() + sym.size() });
                        }
                        Map<String, Integer> in = attributes(type(innerStruct[0]), name + ".inner", new int[1]);
                        if (!in.containsKey("type") || !in.containsKey("max_entries")) {
                            throw new BpfException("map " + name + ": its inner map's type or max_entries is missing");
                        }
                        inner.put(name, new MapDef(name + ".inner", in.get("type"), in.getOrDefault("key_size", 0), in.getOrDefault("value_size", 0),
                                in.get("max_entries"), in.getOrDefault("map_flags", 0)));
                        attr.put("value_size", 4);
                    }
                    // libbpf sizes a perf event array left without max_entries to the CPUs
                    if (!attr.containsKey("type") || !attr.containsKey("max_entries") && attr.get("type") != Verifier.MAP_PERF_EVENT_ARRAY) {
                        throw new BpfException("map " + name + ": its type or max_entries is missing");
                    }
                    out.add(new MapDef(name, attr.get("type"), attr.getOrDefault("key_size", 0), attr.getOrDefault("value_size", 0),
                            attr.getOrDefault("max_entries", 0), attr.getOrDefault("map_flags", 0), null,
                            attr.getOrDefault("map_extra", 0) & 0xffffffffL));
                }
            }
            return out;
        }
    }

    // --- programs ---

    private long[] insns(Section s) throws BpfException {
        if (s.type() == 8 || s.offset() < 0 || s.size() < 0 || s.offset() > b.limit() || s.size() > b.limit() - s.offset()) {
            // SHT_NOBITS has no bytes in the file whatever its size says: a program there is a lie, not an allocation
            throw new BpfException("section " + s.name() + " has no instructions in the file");
        }
        if (s.size() % 8 != 0) {
            throw new BpfException("section " + s.name() + " is not a whole number of instructions");
        }
        long[] out = new long[(int) (s.size() / 8)];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getLong((int) (s.offset() + 8L * i));
        }
        return out;
    }

    /** The relocations of a section: [instruction index, symbol index, type]. */
    private List<long[]> relocations(Section target) throws BpfException {
        List<long[]> out = new ArrayList<>();
        for (Section s : sections) {
            if (s.type() == SHT_REL && s.info() == target.index()) {
                for (long at = s.offset(); at + 16 <= s.offset() + s.size(); at += 16) {
                    long offset = b.getLong((int) at);
                    long info = b.getLong((int) at + 8);
                    int sym = (int) (info >>> 32);
                    if (sym <= 0 || sym >= symbols.size()) {
                        throw new BpfException("a relocation in " + s.name() + " names symbol " + sym + ", which does not exist");
                    }
                    if (offset < 0 || offset % 8 != 0 || offset >= target.size()) {
                        throw new BpfException("a relocation in " + s.name() + " is not on an instruction");
                    }
                    out.add(new long[] { offset / 8, sym, info & 0xffffffffL });
                }
            }
        }
        return out;
    }

    private void readPrograms() throws BpfException {
        Section text = named(".text");
        long[] textInsns = text == null ? new long[0] : insns(text);
        List<long[]> textRelocs = text == null ? List.of() : relocations(text);
        Map<String, Integer> mapIndex = new LinkedHashMap<>();
        for (int i = 0; i < maps.size(); i++) {
            mapIndex.put(maps.get(i).name(), i);
        }
        for (Section s : sections) {
            if ((s.flags() & SHF_EXECINSTR) == 0 || s.name().equals(".text") || s.size() == 0) {
                continue;
            }
            long[] all = insns(s);
            List<long[]> relocs = relocations(s);
            for (Symbol sym : symbols) {
                if (sym.section() != s.index() || sym.type() != STT_FUNC || sym.bind() != STB_GLOBAL) {
                    continue;
                }
                if (sym.value() % 8 != 0 || sym.size() % 8 != 0 || sym.value() + sym.size() > s.size()) {
                    throw new BpfException("program " + sym.name() + " lies outside section " + s.name());
                }
                int start = (int) (sym.value() / 8);
                int len = (int) (sym.size() / 8);
                // libbpf appends to a program only the .text functions it reaches (bpf_object__reloc_code):
                // an uncalled one would be an unreachable instruction
                Map<Integer, Integer> placed = new LinkedHashMap<>(); // a function's start in .text -> in the program
                List<int[]> order = new ArrayList<>();
                int size = len;
                ArrayDeque<Integer> reach = new ArrayDeque<>();
                for (long[] r : relocs) {
                    if (r[0] >= start && r[0] < start + len && r[2] == R_BPF_64_32 && !kfunc(r)) {
                        reach.add(textTarget(all[(int) r[0]], r));
                    }
                }
                while (!reach.isEmpty()) {
                    int at = reach.poll();
                    int[] fn = textFunction(at, textInsns.length, s.name());
                    if (placed.containsKey(fn[0])) {
                        continue;
                    }
                    placed.put(fn[0], size);
                    order.add(fn);
                    size += fn[1] - fn[0];
                    for (int k = fn[0]; k < fn[1]; k++) {
                        long[] r = relocationAt(textRelocs, k);
                        if (r != null && r[2] == R_BPF_64_32 && !kfunc(r)) {
                            reach.add(textTarget(textInsns[k], r));
                        } else if (r == null && Bpf.opcode(textInsns[k]) == (Bpf.JMP | Bpf.CALL) && Bpf.src(textInsns[k]) == Bpf.PSEUDO_CALL) {
                            reach.add(k + Bpf.imm(textInsns[k]) + 1); // a call inside .text clang resolved itself
                        }
                    }
                }
                long[] code = new long[size];
                System.arraycopy(all, start, code, 0, len);
                java.util.function.IntUnaryOperator where = t -> {
                    for (int[] fn : order) {
                        if (t >= fn[0] && t < fn[1]) {
                            return placed.get(fn[0]) + t - fn[0];
                        }
                    }
                    return -1;
                };
                for (int[] fn : order) {
                    System.arraycopy(textInsns, fn[0], code, placed.get(fn[0]), fn[1] - fn[0]);
                }
                boolean[] relocated = new boolean[size];
                for (long[] r : relocs) {
                    if (r[0] >= start && r[0] < start + len) {
                        apply(code, (int) (r[0] - start), r, where, mapIndex, s.name());
                        relocated[(int) (r[0] - start)] = true;
                    }
                }
                for (int[] fn : order) {
                    int base = placed.get(fn[0]);
                    for (int k = fn[0]; k < fn[1]; k++) {
                        long[] r = relocationAt(textRelocs, k);
                        if (r != null) {
                            apply(code, base + k - fn[0], r, where, mapIndex, ".text");
                            relocated[base + k - fn[0]] = true;
                        } else if (Bpf.opcode(textInsns[k]) == (Bpf.JMP | Bpf.CALL) && Bpf.src(textInsns[k]) == Bpf.PSEUDO_CALL) {
                            int at = base + k - fn[0];
                            int dest = where.applyAsInt(k + Bpf.imm(textInsns[k]) + 1);
                            code[at] = Bpf.encode(Bpf.JMP | Bpf.CALL, 0, Bpf.PSEUDO_CALL, 0, dest - at - 1);
                        }
                    }
                }
                for (int k = 0; k + 1 < size; k++) {
                    int src = Bpf.src(code[k]);
                    if (Bpf.opcode(code[k]) == (Bpf.LD | Bpf.IMM | Bpf.DW) && src != 0 && !relocated[k]) {
                        // a map reference no relocation names: its imm is a file descriptor to the kernel
                        // (resolve_pseudo_ldimm64), one this object does not have
                        throw new BpfException("program " + sym.name() + " insn " + k + ": fd " + Bpf.imm(code[k])
                                + " is not pointing to valid bpf_map (an lddw with src " + src + " and no relocation)");
                    }
                    if (Bpf.opcode(code[k]) == (Bpf.LD | Bpf.IMM | Bpf.DW)) {
                        k++;
                    }
                }
                int[][] funcInfo = funcInfo(order, placed, ProgType.ofSection(s.name()));
                programs.add(new ProgramDef(s.name(), sym.name(), code, funcInfo[0], funcInfo[1]));
            }
        }
    }

    /** The object's BTF, read at the first call; null without a .BTF section. */
    private Btf btf() throws BpfException {
        if (btf == null) {
            Section s = named(".BTF");
            btf = s == null ? null : new Btf(s);
        }
        return btf;
    }

    /**
     * What BTF says of the functions a program appended from .text (the kernel's func_info), both empty
     * without BTF: [0] where those start whose prototype returns no int or enum ({@code check_btf_func}:
     * such a subprogram may not use LD_ABS or tail calls), {@link ProgramDef#nonScalarReturns}; [1] its
     * global functions ({@code BTF_FUNC_GLOBAL}) whose arguments are numbers or the program type's
     * context, as {@link ProgramDef#globalFuncs} lists them. A global function with an argument pointing
     * to other memory (the kernel's {@code PTR_TO_MEM}, not modelled) is left out of [1]: the verifier
     * follows it from its callers as a static function.
     */
    private int[][] funcInfo(List<int[]> order, Map<Integer, Integer> placed, ProgType type) throws BpfException {
        Section text = named(".text");
        Btf types = text == null || order.isEmpty() ? null : btf();
        List<Integer> nonScalar = new ArrayList<>();
        List<Integer> globals = new ArrayList<>();
        for (int[] fn : types == null ? List.<int[]>of() : order) {
            String name = textFunction(text, fn[0]);
            if (name == null) {
                continue;
            }
            Boolean scalar = types.returnsScalar(name);
            boolean noInt = scalar != null && !scalar;
            if (noInt) {
                nonScalar.add(placed.get(fn[0]));
            }
            int[] args = types.globalArgs(name, type);
            if (args != null) {
                globals.add(placed.get(fn[0]));
                globals.add(noInt ? 1 : 0);
                globals.add(args.length);
                for (int a : args) {
                    globals.add(a);
                }
            }
        }
        return new int[][] { nonScalar.stream().mapToInt(Integer::intValue).toArray(), globals.stream().mapToInt(Integer::intValue).toArray() };
    }

    /** The name of the function symbol at instruction {@code insn} of .text, or null. */
    private String textFunction(Section text, int insn) {
        for (Symbol sym : symbols) {
            if (sym.section() == text.index() && sym.type() == STT_FUNC && sym.value() / 8 == insn) {
                return sym.name();
            }
        }
        return null;
    }

    /** Whether relocation {@code r} names an extern with no section: a kernel function ({@code __ksym}) the loader resolves. */
    private boolean kfunc(long[] r) {
        Symbol sym = symbols.get((int) r[1]);
        return r[2] == R_BPF_64_32 && sym.section() == 0 && !sym.name().isEmpty();
    }

    /** The .text instruction a call relocated by {@code r} goes to (libbpf: the symbol's offset plus imm + 1, or the function). */
    private int textTarget(long insn, long[] r) throws BpfException {
        Symbol sym = symbols.get((int) r[1]);
        Section target = sym.section() < sections.size() ? sections.get(sym.section()) : null;
        if (target == null || !target.name().equals(".text")) {
            return -1; // apply names the refusal
        }
        return sym.type() == STT_FUNC ? (int) (sym.value() / 8) : (int) (sym.value() / 8) + Bpf.imm(insn) + 1;
    }

    /** The function of .text holding instruction {@code at}: [start, end), from its symbols; all of .text without them. */
    private int[] textFunction(int at, int textLength, String from) throws BpfException {
        if (at < 0 || at >= textLength) {
            throw new BpfException("a call in " + from + " calls outside .text");
        }
        Section text = named(".text");
        int[] best = null;
        for (Symbol sym : symbols) {
            if (sym.section() == text.index() && sym.type() == STT_FUNC && sym.size() > 0) {
                int lo = (int) (sym.value() / 8);
                int hi = lo + (int) (sym.size() / 8);
                if (at >= lo && at < hi && hi <= textLength) {
                    best = new int[] { lo, hi };
                }
            }
        }
        return best != null ? best : new int[] { 0, textLength };
    }

    private static long[] relocationAt(List<long[]> relocs, int insn) {
        for (long[] r : relocs) {
            if (r[0] == insn) {
                return r;
            }
        }
        return null;
    }

    private void apply(long[] code, int at, long[] r, java.util.function.IntUnaryOperator textPos, Map<String, Integer> mapIndex,
            String where) throws BpfException {
        Symbol sym = symbols.get((int) r[1]);
        long insn = code[at];
        int op = Bpf.opcode(insn);
        if (r[2] == R_BPF_64_64) {
            if (op != (Bpf.LD | Bpf.IMM | Bpf.DW) || at + 1 >= code.length) {
                throw new BpfException("a relocation in " + where + " at insn " + at + " is not on an lddw");
            }
            Integer index = mapIndex.get(sym.name());
            Section home = sym.section() < sections.size() ? sections.get(sym.section()) : null;
            if (index != null && sym.type() != 3) {
                code[at] = Bpf.encode(op, Bpf.dst(insn), Bpf.PSEUDO_MAP_FD, 0, index);
                code[at + 1] = 0;
            } else if (home != null && mapIndex.containsKey(home.name())) {
                // global data: the value of the section's one-element array, at the variable's offset
                long off = sym.value() + Bpf.imm(insn);
                code[at] = Bpf.encode(op, Bpf.dst(insn), Bpf.PSEUDO_MAP_VALUE, 0, mapIndex.get(home.name()));
                code[at + 1] = Bpf.encode(0, 0, 0, 0, (int) off);
            } else {
                throw new BpfException("insn " + at + " in " + where + " refers to " + (sym.name().isEmpty() ? "a section" : sym.name())
                        + ", which is neither a map nor global data");
            }
        } else if (r[2] == R_BPF_64_32) {
            if (op != (Bpf.JMP | Bpf.CALL)) {
                throw new BpfException("a relocation in " + where + " at insn " + at + " is not on a call");
            }
            if (kfunc(r)) {
                // libbpf's bpf_object__resolve_ksym_func_btf_id: the kfunc's id, or the object is refused
                Kfuncs.Kfunc k = Kfuncs.byName(sym.name());
                if (k == null) {
                    throw new BpfException(Kfuncs.notFound(sym.name()));
                }
                code[at] = Bpf.encode(op, 0, Kfuncs.PSEUDO_KFUNC_CALL, 0, k.id());
                return;
            }
            Section target = sym.section() < sections.size() ? sections.get(sym.section()) : null;
            if (target == null || !target.name().equals(".text")) {
                throw new BpfException("insn " + at + " in " + where + " calls outside .text");
            }
            // libbpf's rule: a call relocated against .text goes to the symbol's offset plus imm + 1
            int dest = textPos.applyAsInt(textTarget(insn, r));
            if (dest < 0) {
                throw new BpfException("insn " + at + " in " + where + " calls outside .text");
            }
            code[at] = Bpf.encode(op, 0, Bpf.PSEUDO_CALL, 0, dest - at - 1);
        } else {
            throw new BpfException("relocation type " + r[2] + " in " + where + " is not supported");
        }
    }
}
