package org.modnet.ebpf.impl;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;

import org.modnet.ebpf.api.AttachType;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfMap;
import org.modnet.ebpf.api.BpfObject;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfSyscall;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.Helpers;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.SocketFilter;
import org.modnet.ebpf.api.BpfAdoption;
import org.modnet.ebpf.api.BpfHandOver;
import org.modnet.ebpf.api.MapHandOver;
import org.modnet.ebpf.api.ProgHandOver;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code bpf(2)} system call of this implementation: maps and programs are made by this bundle's
 * classes and listed from its registries, so another version of the bundle has its own. On an update
 * of the bundle the old version hands its maps and programs over ({@link #handOver()}) and the new one
 * adopts them under the same ids ({@link #adopt}); whoever holds both services (the xdp bundle) carries
 * the values between them, so this bundle needs nothing of the network core.
 */
@Component(service = BpfSyscall.class)
public final class BpfSyscallImpl implements BpfSyscall {
    private final java.util.function.BooleanSupplier updating;

    /** Outside OSGi (tests, the CLI): never handing over. */
    public BpfSyscallImpl() {
        this(() -> false);
    }

    /** With a test's say on whether it is leaving for an update. */
    public BpfSyscallImpl(java.util.function.BooleanSupplier updating) {
        this.updating = updating;
    }

    @Activate
    public BpfSyscallImpl(BundleContext context) {
        this(() -> beingUpdated(context));
    }

    /**
     * The bundle is stopping for an update (a transient stop: it stays persistently started) while the
     * framework keeps running; {@code stop}, {@code rmmod} or a framework shutting down unload instead.
     */
    private static boolean beingUpdated(BundleContext context) {
        try {
            Bundle b = context.getBundle();
            BundleStartLevel sl = b.adapt(BundleStartLevel.class);
            return b.getState() == Bundle.STOPPING && context.getBundle(0).getState() == Bundle.ACTIVE && sl != null
                    && sl.isPersistentlyStarted();
        } catch (IllegalStateException e) {
            return false; // context no longer valid
        }
    }

    @Override
    public boolean handingOver() {
        return updating.getAsBoolean();
    }

    @Override
    public BpfHandOver handOver() {
        List<LoadedProgram> progs = LoadedProgram.all();
        java.util.Map<Integer, MapHandOver> maps = new java.util.TreeMap<>();
        for (BpfMapBase m : BpfMapBase.all()) {
            maps.put(m.id(), m.handOver());
        }
        for (LoadedProgram p : progs) {
            for (BpfMapBase m : p.mapsBase()) {
                maps.computeIfAbsent(m.id(), i -> m.handOver());
            }
        }
        List<ProgHandOver> ph = new ArrayList<>();
        for (LoadedProgram p : progs) {
            if (p.loaded()) {
                ph.add(p.handOver());
            }
        }
        return new BpfHandOver(BpfHandOver.VERSION, List.copyOf(maps.values()), ph);
    }

    @Override
    public BpfAdoption adopt(BpfHandOver state) throws BpfException {
        if (state.version() != BpfHandOver.VERSION) {
            throw new BpfException("bpf: cannot adopt state version " + state.version() + ", this implementation reads version "
                    + BpfHandOver.VERSION);
        }
        java.util.Map<Integer, BpfMapBase> maps = new java.util.TreeMap<>();
        int[] copied = { 0 };
        java.util.Map<Integer, String> lostMaps = new java.util.TreeMap<>();
        for (MapHandOver m : state.maps()) {
            try {
                maps.put(m.id(), BpfMapBase.adopt(m, copied));
            } catch (BpfException | RuntimeException e) {
                lostMaps.put(m.id(), String.valueOf(e.getMessage())); // its programs are refused below
            }
        }
        for (BpfMapBase m : maps.values()) {
            m.relinkInner(maps);
        }
        List<BpfProg> progs = new ArrayList<>();
        java.util.Map<Integer, String> refused = new java.util.TreeMap<>();
        for (ProgHandOver p : state.progs()) {
            List<BpfMap> own = new ArrayList<>();
            String lost = null;
            for (int id : p.mapIds()) {
                own.add(maps.get(id));
                if (maps.get(id) == null) {
                    lost = "map " + id + " was not adopted: " + lostMaps.getOrDefault(id, "not handed over");
                }
            }
            if (lost != null) {
                refused.put(p.id(), lost);
                continue;
            }
            try {
                progs.add(load(p.id(), p.name(), p.insns(), p.nonScalarReturns(), p.globalFuncs(), p.type(), p.attach(), own, p.extra(),
                        p.tracePipe(), p.engine(), false));
            } catch (BpfException | RuntimeException e) {
                refused.put(p.id(), String.valueOf(e.getMessage())); // never crash on a program this verifier refuses
            }
        }
        return new BpfAdoption(progs, List.copyOf(maps.values()), refused, maps.size() - copied[0], copied[0]);
    }

    @Override
    public void xskSockets(java.util.function.IntPredicate open) {
        BpfMapBase.xskSockets = open;
    }

    @Override
    public BpfMap mapCreate(String name, int type, int keySize, int valueSize, int maxEntries, int flags, int cpus) throws BpfException {
        return BpfMapBase.create(name, type, keySize, valueSize, maxEntries, flags, cpus);
    }

    @Override
    public BpfMap mapCreate(String name, int type, int keySize, int valueSize, int maxEntries, int flags, BpfMap inner) throws BpfException {
        if (!(inner instanceof BpfMapBase in)) {
            throw new BpfException("map " + name + ": the inner map was not created by this bpf implementation (EINVAL)");
        }
        return BpfMapBase.createOuter(0, name, type, keySize, valueSize, maxEntries, flags, in);
    }

    @Override
    public BpfObject objOpen(byte[] elf) throws BpfException {
        return ElfObject.parse(elf);
    }

    @Override
    public BpfProg progLoad(String name, long[] insns, ProgType type, AttachType attach, List<BpfMap> maps, Helpers extra,
            Consumer<String> tracePipe, String engine, boolean verbose) throws BpfException {
        return load(0, name, insns, type, attach, maps, extra, tracePipe, engine, verbose);
    }

    @Override
    public BpfProg progLoad(BpfObject.ProgramDef def, ProgType type, AttachType attach, List<BpfMap> maps, Helpers extra,
            Consumer<String> tracePipe, String engine, boolean verbose) throws BpfException {
        return load(0, def.name(), def.insns(), def.nonScalarReturns(), def.globalFuncs(), type, attach, maps, extra, tracePipe, engine,
                verbose);
    }

    private LoadedProgram load(int id, String name, long[] insns, ProgType type, AttachType attach, List<BpfMap> maps, Helpers extra,
            Consumer<String> tracePipe, String engine, boolean verbose) throws BpfException {
        return load(id, name, insns, new int[0], type, attach, maps, extra, tracePipe, engine, verbose);
    }

    private LoadedProgram load(int id, String name, long[] insns, int[] nonScalarReturns, ProgType type, AttachType attach,
            List<BpfMap> maps, Helpers extra, Consumer<String> tracePipe, String engine, boolean verbose) throws BpfException {
        return load(id, name, insns, nonScalarReturns, new int[0], type, attach, maps, extra, tracePipe, engine, verbose);
    }

    private LoadedProgram load(int id, String name, long[] insns, int[] nonScalarReturns, int[] globalFuncs, ProgType type,
            AttachType attach, List<BpfMap> maps, Helpers extra, Consumer<String> tracePipe, String engine, boolean verbose)
            throws BpfException {
        List<BpfMapBase> own = new ArrayList<>(maps.size());
        for (BpfMap m : maps) {
            if (!(m instanceof BpfMapBase b)) {
                throw new BpfException("map " + m.name() + " was not created by this bpf implementation (EINVAL)");
            }
            own.add(b);
        }
        Helpers helpers = new Helpers();
        if (type == ProgType.XDP) {
            XdpBuffer.helpers(own).copyInto(helpers);
        } else if (type == ProgType.SCHED_CLS) {
            SkbBuffer.helpers().copyInto(helpers);
        } else if (type == ProgType.SOCKET_FILTER) {
            SkbBuffer.sockHelpers().copyInto(helpers);
        }
        if (extra != null) {
            extra.copyInto(helpers);
        }
        LoadedProgram p = LoadedProgram.load(id, name, insns, nonScalarReturns, globalFuncs, type, attach, own, type == ProgType.XDP ? HelperProtos.XDP
                : type == ProgType.SCHED_CLS ? HelperProtos.SCHED_CLS : type == ProgType.SOCKET_FILTER ? HelperProtos.SOCKET_FILTER : List.of(),
                helpers, engine, verbose, tracePipe);
        p.callerExtra = extra;
        return p;
    }

    @Override
    public BpfProg progLoadClassic(String name, long[] filter, String engine) throws BpfException {
        if (filter == null) {
            throw new BpfException("no classic BPF program"); // sk_attach_filter: a NULL filter is EINVAL
        }
        ClassicBpf.check(filter);
        long[] converted = ClassicBpf.convert(filter);
        return load(0, name, converted, ProgType.SOCKET_FILTER, AttachType.DEFAULT, List.of(), null, null, engine, false);
    }

    @Override
    public SocketFilter socketFilter(String name, long[] insns, String engine) throws BpfException {
        Executable e = Engines.byName(engine, Program.of(name, insns), new Helpers());
        Memory memory = new Memory();
        return new SocketFilter() {
            @Override
            public long run(java.lang.foreign.MemorySegment frame) {
                if (frame.byteSize() == 0) {
                    return e.run(memory, 0, 0);
                }
                long base = memory.set(Memory.FIRST_FREE, frame, false);
                return e.run(memory, base, frame.byteSize());
            }

            @Override
            public String engine() {
                return e.engine();
            }
        };
    }

    @Override
    public List<BpfProg> progs() {
        return List.copyOf(LoadedProgram.all());
    }

    @Override
    public BpfProg prog(int id) {
        return LoadedProgram.byId(id);
    }

    @Override
    public List<BpfMap> maps() {
        List<BpfMap> all = new ArrayList<>();
        for (LoadedProgram p : LoadedProgram.all()) {
            for (BpfMap m : p.maps()) {
                if (all.stream().noneMatch(x -> x.id() == m.id())) {
                    all.add(m);
                }
            }
        }
        all.sort(Comparator.comparingInt(BpfMap::id));
        return all;
    }

    @Override
    public long[] assemble(String text) throws BpfException {
        return Assembler.assemble(text);
    }

    @Override
    public List<String> disassemble(long[] insns) {
        return Disassembler.disassemble(insns);
    }
}
