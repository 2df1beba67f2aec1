#!/usr/bin/env python3
"""fr-4pkt-fack-last-mss.pkt's exchange played against this host's own Linux TCP, to see when Linux's
RACK reordering timer retransmits (the suite's script wants 40 ms +-5 after the SACK; modnet sends at 32).

Run as root: `ip netns add pdfr4 && ip netns exec pdfr4 python3 bundles/packetdrill/linux/fr-4pkt-fack-last-mss.py;
ip netns del pdfr4`. It opens a TUN device in that namespace, sets the suite's defaults.sh sysctls
(cubic must be in the host's net.ipv4.tcp_allowed_congestion_control), and plays the script's peer:
SYN (mss 1000, sackOK, wscale 7), the ACK at +100 ms, accept and a 4,000-byte write, then 100 ms later an
ACK with SACK 3001:4001, and prints when the retransmission of 1:1001 arrives. Times are read by Python
on the TUN, so each carries up to about a millisecond of scheduling.
"""
import os, fcntl, struct, socket, subprocess, threading, time, select, sys
TUNSETIFF=0x400454ca; IFF_TUN=1; IFF_NO_PI=0x1000
fd=os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', b'tun0', IFF_TUN|IFF_NO_PI))
def sh(c): subprocess.run(c, shell=True, check=False)
sh('ip link set lo up; ip addr add 192.168.77.1/24 dev tun0; ip link set tun0 up; tc qdisc add dev tun0 root pfifo')
for kv in ['tcp_timestamps=1','tcp_sack=1','tcp_dsack=1','tcp_frto=2','tcp_reordering=3','tcp_congestion_control=cubic',
           'tcp_slow_start_after_idle=0','tcp_early_retrans=4','tcp_recovery=1','tcp_tso_win_divisor=3','tcp_ecn=0',
           'tcp_pacing_ss_ratio=200','tcp_pacing_ca_ratio=120','tcp_syncookies=1','tcp_fastopen=0x70403']:
    sh('sysctl -q net.ipv4.'+kv)
sh('sysctl -q net.ipv4.tcp_rmem="4096 540000 15728640" net.ipv4.tcp_wmem="4096 262144 4194304"')
time.sleep(0.2)
L=socket.socket(); L.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); L.bind(('192.168.77.1', 8080)); L.listen(1)
def csum(b):
    if len(b)%2: b+=b'\0'
    s=sum(struct.unpack('!%dH'%(len(b)//2), b)); s=(s>>16)+(s&0xffff); s+=s>>16; return (~s)&0xffff
SRC=socket.inet_aton('192.168.77.2'); DST=socket.inet_aton('192.168.77.1')
def tcp(seq, ack, flags, win, opts=b''):
    while len(opts)%4: opts+=b'\1'
    hl=(20+len(opts))//4
    h=struct.pack('!HHIIBBHHH', 40000, 8080, seq, ack, hl<<4, flags, win, 0, 0)+opts
    c=csum(SRC+DST+struct.pack('!BBH',0,6,len(h))+h)
    h=h[:16]+struct.pack('!H',c)+h[18:]
    ip=struct.pack('!BBHHHBBH4s4s',0x45,0,20+len(h),1,0,64,6,0,SRC,DST)
    ip=ip[:10]+struct.pack('!H',csum(ip))+ip[12:]
    os.write(fd, ip+h)
def rd(timeout):
    r,_,_=select.select([fd],[],[],timeout)
    if not r: return None
    p=os.read(fd, 65536); t=time.monotonic()
    if p[0]>>4!=4 or p[9]!=6: return rd(timeout)
    ihl=(p[0]&15)*4; seq,ack=struct.unpack('!II',p[ihl+4:ihl+12]); off=(p[ihl+12]>>4)*4; fl=p[ihl+13]
    return t, seq, ack, fl, len(p)-ihl-off
t0=time.monotonic()
tcp(0,0,0x02,32792, b'\x02\x04\x03\xe8'+b'\x04\x02'+b'\x01\x01\x01'+b'\x03\x03\x07')
p=rd(1); isn=p[1]; print('synack at %.4f' % (p[0]-t0))
time.sleep(0.1 - (time.monotonic()-t0))
tcp(1, isn+1, 0x10, 320)
conn=[L.accept()[0]]
ta=time.monotonic(); conn[0].send(b'x'*4000)
segs=[]
while True:
    p=rd(0.05)
    if not p: break
    segs.append(p); print('data seq %d len %d at %.4f' % (p[1]-isn, p[4], p[0]-t0))
time.sleep(max(0, 0.1 - (time.monotonic()-segs[0][0])))
ts=time.monotonic()
sack=struct.pack('!BBII',5,10,isn+3001,isn+4001)
tcp(1, isn+1, 0x10, 320, b'\x01\x01'+sack)
while True:
    p=rd(2)
    if not p: break
    print('after SACK: seq %d len %d flags %#x at +%.4f s' % (p[1]-isn, p[4], p[3], p[0]-ts))
    if p[4]>0: break
os.system('ss -tin state established | tail -2')
