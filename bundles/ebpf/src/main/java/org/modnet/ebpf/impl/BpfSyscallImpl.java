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
import org.osgi.service.component.annotations.Component;

/**
 * The {@code bpf(2)} system call of this implementation: maps and programs are made by this bundle's
 * classes and listed from its registries, so another version of the bundle has its own.
 */
@Component(service = BpfSyscall.class)
public final class BpfSyscallImpl implements BpfSyscall {

    @Override
    public BpfMap mapCreate(String name, int type, int keySize, int valueSize, int maxEntries, int flags, int cpus) throws BpfException {
        return BpfMapBase.create(name, type, keySize, valueSize, maxEntries, flags, cpus);
    }

    @Override
    public BpfObject objOpen(byte[] elf) throws BpfException {
        return ElfObject.parse(elf);
    }

    @Override
    public BpfProg progLoad(String name, long[] insns, ProgType type, AttachType attach, List<BpfMap> maps, Helpers extra,
            Consumer<String> tracePipe, String engine, boolean verbose) throws BpfException {
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
        }
        if (extra != null) {
            extra.copyInto(helpers);
        }
        return LoadedProgram.load(name, insns, type, attach, own, type == ProgType.XDP ? HelperProtos.XDP
                : type == ProgType.SCHED_CLS ? HelperProtos.SCHED_CLS : List.of(), helpers, engine,
                verbose, tracePipe);
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
