using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace Vtuber.Bridge.Core
{
    /// <summary>
    /// Listens for VMC datagrams on a background thread and hands the newest pose to the consumer
    /// (Unity's main thread) through a lock-protected double buffer: the receiver thread decodes
    /// every datagram into its own <see cref="VmcDecoder"/> and publishes a copy after each accepted
    /// datagram; <see cref="TryGetLatest"/> copies it out when it changed. Latency beats
    /// completeness: poses the consumer did not pick up are overwritten.
    ///
    /// No exception leaves the thread: malformed datagrams are rejected by the decoder (counted),
    /// socket errors are counted and the loop goes on; anything unexpected is caught at the top of
    /// the loop, counted in <see cref="ThreadErrors"/> and kept in <see cref="LastError"/>.
    /// </summary>
    public sealed class VmcUdpReceiver : IDisposable
    {
        public const int DefaultPort = 39539;
        const int MaxDatagram = 65536;

        readonly object gate = new object();
        readonly VmcDecoder decoder = new VmcDecoder();
        readonly VmcPose published = new VmcPose();
        long publishedSequence;
        Socket socket;
        Thread thread;
        volatile bool running;

        public int Port { get; private set; }
        /// <summary>Datagrams accepted / rejected as malformed (read from any thread).</summary>
        public long Datagrams { get { return Interlocked.Read(ref datagrams); } }
        public long Rejected { get { return Interlocked.Read(ref rejected); } }
        public long ThreadErrors { get { return Interlocked.Read(ref threadErrors); } }
        public string LastError { get { return lastError; } }
        public bool IsRunning { get { return running; } }
        /// <summary>Environment.TickCount of the last accepted datagram (0: none yet).</summary>
        public int LastReceiveTick { get { return lastTick; } }

        long datagrams, rejected, threadErrors;
        volatile string lastError;
        volatile int lastTick;

        /// <summary>
        /// Binds the UDP port (0 = any free port; see <see cref="Port"/>) and starts the thread.
        /// Throws SocketException if the port is taken: a user error the component reports once.
        /// </summary>
        public void Start(int port, string bindAddress = "0.0.0.0")
        {
            if (running) Stop();
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                // Two receivers on one port would split the stream between them: refuse instead
                // (Mono sets SO_REUSEADDR on UDP sockets unless told not to).
                s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, false);
                s.Bind(new IPEndPoint(IPAddress.Parse(bindAddress), port));
                s.ReceiveTimeout = 200; // ms: lets the loop notice Stop() without closing under it
                s.ReceiveBufferSize = 1 << 20;
            }
            catch
            {
                s.Close();
                throw;
            }
            socket = s;
            Port = ((IPEndPoint)s.LocalEndPoint).Port;
            running = true;
            thread = new Thread(Loop) { IsBackground = true, Name = "vtuber VMC receiver :" + Port };
            thread.Start();
        }

        public void Stop()
        {
            running = false;
            var t = thread;
            thread = null;
            if (t != null && t != Thread.CurrentThread) t.Join(1000);
            if (socket != null) { socket.Close(); socket = null; }
        }

        public void Dispose() { Stop(); }

        /// <summary>
        /// Copies the newest pose into <paramref name="into"/> if it is newer than
        /// <paramref name="sequence"/> (updated). Cheap when nothing changed.
        /// </summary>
        public bool TryGetLatest(VmcPose into, ref long sequence)
        {
            if (Interlocked.Read(ref publishedSequence) == sequence) return false;
            lock (gate)
            {
                published.CopyTo(into);
                sequence = publishedSequence;
            }
            return true;
        }

        /// <summary>Feeds one datagram as if received (the thread's own path; also used by tests).</summary>
        public bool Feed(byte[] data, int count)
        {
            bool ok;
            lock (decoder)
            {
                ok = decoder.ApplyDatagram(data, 0, count);
                if (ok)
                {
                    lock (gate)
                    {
                        decoder.Pose.CopyTo(published);
                        Interlocked.Increment(ref publishedSequence);
                    }
                }
                else lastError = decoder.LastError;
            }
            if (ok)
            {
                Interlocked.Increment(ref datagrams);
                lastTick = Environment.TickCount == 0 ? 1 : Environment.TickCount;
            }
            else Interlocked.Increment(ref rejected);
            return ok;
        }

        void Loop()
        {
            var buffer = new byte[MaxDatagram];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            while (running)
            {
                try
                {
                    var s = socket;
                    if (s == null) break;
                    int n = s.ReceiveFrom(buffer, ref from);
                    Feed(buffer, n);
                }
                catch (SocketException e)
                {
                    // Timeouts are the normal idle case; ICMP "connection reset" from an earlier send
                    // on Windows is harmless too. Anything else is counted, and the loop goes on.
                    if (e.SocketErrorCode != SocketError.TimedOut && e.SocketErrorCode != SocketError.WouldBlock &&
                        e.SocketErrorCode != SocketError.ConnectionReset && running)
                    {
                        Interlocked.Increment(ref threadErrors);
                        lastError = e.Message;
                        Thread.Sleep(10);
                    }
                }
                catch (ObjectDisposedException)
                {
                    break; // Stop() closed the socket
                }
                catch (Exception e)
                {
                    // Last guard of a background thread: an exception escaping here would kill the
                    // thread (and, in a player build, possibly the process). Count it and go on.
                    Interlocked.Increment(ref threadErrors);
                    lastError = e.GetType().Name + ": " + e.Message;
                }
            }
        }
    }
}
