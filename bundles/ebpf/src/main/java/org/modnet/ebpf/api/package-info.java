/**
 * What users of eBPF programs and maps need, and nothing of how they run: the {@link
 * org.modnet.ebpf.api.BpfSyscall} service (load, create, list, assemble, disassemble), the program
 * and map handles it gives ({@link org.modnet.ebpf.api.BpfProg}, {@link org.modnet.ebpf.api.BpfMap},
 * {@link org.modnet.ebpf.api.XdpContext}, {@link org.modnet.ebpf.api.SocketFilter}), the instruction
 * set ({@link org.modnet.ebpf.api.Bpf}), helper prototypes and the SPI for a runtime's own helpers
 * ({@link org.modnet.ebpf.api.Helper}, {@link org.modnet.ebpf.api.BpfMemory}). The verifier, the
 * engines, the ELF loader and the maps are private to the ebpf bundle (org.modnet.ebpf.impl): updating
 * it swaps them without refreshing its users. 2.0.0: the implementation classes left this package.
 * 2.1.0: tc programs ({@link org.modnet.ebpf.api.ProgType#SCHED_CLS}, {@link org.modnet.ebpf.api.TcContext}) and the
 * state hand-over on update ({@link org.modnet.ebpf.api.BpfHandOver}, {@link org.modnet.ebpf.api.BpfAdoption}).
 * 2.2.0: every user of programs moves to the adopted ones ({@link org.modnet.ebpf.api.BpfRebind}), not only XDP's hooks.
 * 2.3.0: socket filters ({@link org.modnet.ebpf.api.ProgType#SOCKET_FILTER}, {@link org.modnet.ebpf.api.SkFilterContext},
 * classic BPF through {@link org.modnet.ebpf.api.BpfSyscall#progLoadClassic}).
 * 2.5.0: an object's programs carry their BTF function return types ({@link org.modnet.ebpf.api.BpfObject.ProgramDef#nonScalarReturns})
 * and load with them ({@link org.modnet.ebpf.api.BpfSyscall#progLoad(org.modnet.ebpf.api.BpfObject.ProgramDef, ProgType, AttachType,
 * java.util.List, Helpers, java.util.function.Consumer, String, boolean)}); {@code bpf_strtol}/{@code bpf_strtoul}
 * ({@link org.modnet.ebpf.api.HelperProto.Arg#PTR_TO_LONG}); a map's {@code map_extra} from BTF
 * ({@link org.modnet.ebpf.api.BpfObject.MapDef#mapExtra}).
 * 2.6.0: a frame's receive metadata for XDP's kfuncs ({@link org.modnet.ebpf.api.XdpContext#rxTimestamp},
 * {@link org.modnet.ebpf.api.XdpContext#rxHash}, {@link org.modnet.ebpf.api.XdpContext#rxVlanTag}).
 * 2.6.0 (also): xskmaps ({@link org.modnet.ebpf.api.BpfMap#MAP_XSKMAP}): a redirect to an AF_XDP socket
 * ({@link org.modnet.ebpf.api.XdpContext#redirectXsk}); a program's BTF return types travel in the hand-over
 * ({@link org.modnet.ebpf.api.ProgHandOver#nonScalarReturns}); arrays and hashes of maps
 * ({@link org.modnet.ebpf.api.BpfSyscall#mapCreate(String, int, int, int, int, int, org.modnet.ebpf.api.BpfMap)}).
 * 2.7.0: tc's {@code bpf_get_hash_recalc} ({@link org.modnet.ebpf.api.HelperProtos#GET_HASH_RECALC});
 * {@link org.modnet.ebpf.api.BpfMap#BPF_F_INNER_MAP}; the AF_XDP sockets an xskmap update checks its fd against
 * ({@link org.modnet.ebpf.api.BpfSyscall#xskSockets}); an object's global functions and their BTF argument types
 * ({@link org.modnet.ebpf.api.BpfObject.ProgramDef#globalFuncs}), handed over with the program
 * ({@link org.modnet.ebpf.api.ProgHandOver#globalFuncs}).
 * 2.8.0: {@code BPF_PROG_TEST_RUN}'s shape, the context prepared once for many runs ({@link org.modnet.ebpf.api.XdpContext#testRun}).
 */
@Export
@Version("2.8.0")
package org.modnet.ebpf.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
