using System;
using System.Collections.Generic;
using System.Text;

namespace Vtuber.Bridge.Core
{
    /// <summary>One OSC argument. <see cref="Tag"/> is the OSC type tag character.</summary>
    public struct OscArgument
    {
        /// <summary>i, h, t (int32/int64/time tag), f, d (float32/64), s, S (string/symbol), c (char),
        /// r (RGBA, in Int), m (MIDI, in Int), b (blob), T, F, N, I (no payload).</summary>
        public char Tag;
        public long Int;
        public double Float;
        public string Text;
        public byte[] Blob;

        public bool IsNumber { get { return Tag == 'f' || Tag == 'd' || Tag == 'i' || Tag == 'h'; } }

        /// <summary>The value as a float for f, d, i and h arguments.</summary>
        public bool TryGetFloat(out float value)
        {
            switch (Tag)
            {
                case 'f': case 'd': value = (float)Float; return true;
                case 'i': case 'h': value = Int; return true;
                default: value = 0f; return false;
            }
        }

        public override string ToString()
        {
            switch (Tag)
            {
                case 'f': case 'd': return Float.ToString("R");
                case 's': case 'S': return "\"" + Text + "\"";
                case 'b': return "blob[" + Blob.Length + "]";
                default: return Tag + ":" + Int;
            }
        }
    }

    /// <summary>One OSC message: an address and its arguments (bundles are flattened by the reader).</summary>
    public sealed class OscMessage
    {
        public string Address;
        public OscArgument[] Args;
        /// <summary>Time tag of the innermost enclosing bundle (1 = immediately; 0 for a bare message).</summary>
        public ulong TimeTag;

        public OscMessage(string address, OscArgument[] args, ulong timeTag)
        {
            Address = address; Args = args; TimeTag = timeTag;
        }

        public override string ToString()
        {
            var sb = new StringBuilder(Address);
            foreach (var a in Args) sb.Append(' ').Append(a);
            return sb.ToString();
        }
    }

    /// <summary>
    /// OSC 1.0 packet parser (messages and nested bundles, big-endian). It never throws on bad input:
    /// <see cref="TryParse"/> returns false with a reason and leaves no partial output behind, so one
    /// malformed datagram cannot take down a receiver thread.
    /// </summary>
    public static class OscReader
    {
        /// <summary>Nested bundles deeper than this are rejected (a hostile packet cannot recurse far).</summary>
        public const int MaxBundleDepth = 8;
        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

        /// <summary>
        /// Parses one UDP payload (a message or a bundle) and appends its messages, in order, to
        /// <paramref name="output"/>. On failure nothing is appended and <paramref name="error"/> says why.
        /// </summary>
        public static bool TryParse(byte[] data, int offset, int count, List<OscMessage> output, out string error)
        {
            error = null;
            if (data == null || output == null) { error = "null buffer"; return false; }
            if (offset < 0 || count < 0 || offset > data.Length - count) { error = "range outside the buffer"; return false; }
            int before = output.Count;
            bool ok;
            try
            {
                ok = ParsePacket(data, offset, count, output, 0, 0UL, out error);
            }
            catch (DecoderFallbackException)
            {
                ok = false;
                error = "invalid UTF-8 in a string";
            }
            if (!ok) output.RemoveRange(before, output.Count - before);
            return ok;
        }

        public static bool TryParse(byte[] data, List<OscMessage> output, out string error)
        {
            return TryParse(data, 0, data == null ? 0 : data.Length, output, out error);
        }

        static bool ParsePacket(byte[] d, int start, int count, List<OscMessage> output, int depth,
                                ulong timeTag, out string error)
        {
            if (count < 4 || count % 4 != 0) { error = "packet size " + count + " is not a positive multiple of 4"; return false; }
            if (d[start] == (byte)'#')
            {
                if (count < 16 || !IsBundleHead(d, start)) { error = "bad bundle header"; return false; }
                if (depth >= MaxBundleDepth) { error = "bundles nested too deep"; return false; }
                ulong tag = ReadU64(d, start + 8);
                int p = start + 16, end = start + count;
                while (p < end)
                {
                    if (end - p < 4) { error = "truncated bundle element size"; return false; }
                    int size = ReadI32(d, p);
                    p += 4;
                    if (size <= 0 || size > end - p) { error = "bundle element size " + size + " out of range"; return false; }
                    if (!ParsePacket(d, p, size, output, depth + 1, tag, out error)) return false;
                    p += size;
                }
                error = null;
                return true;
            }
            if (d[start] != (byte)'/') { error = "not an OSC message or bundle"; return false; }
            OscMessage m;
            if (!ParseMessage(d, start, start + count, timeTag, out m, out error)) return false;
            output.Add(m);
            return true;
        }

        static bool IsBundleHead(byte[] d, int p)
        {
            const string head = "#bundle";
            for (int i = 0; i < 7; i++) if (d[p + i] != (byte)head[i]) return false;
            return d[p + 7] == 0;
        }

        static bool ParseMessage(byte[] d, int p, int end, ulong timeTag, out OscMessage m, out string error)
        {
            m = null;
            string address;
            if (!ReadString(d, ref p, end, out address)) { error = "unterminated address"; return false; }
            OscArgument[] args;
            if (p == end)
            {
                // OSC 1.0 allows old senders to omit the type tag string: no arguments then.
                args = new OscArgument[0];
            }
            else
            {
                string tags;
                if (!ReadString(d, ref p, end, out tags) || tags.Length == 0 || tags[0] != ',')
                {
                    error = "missing type tag string"; return false;
                }
                args = new OscArgument[CountArgs(tags)];
                int k = 0;
                for (int i = 1; i < tags.Length; i++)
                {
                    char t = tags[i];
                    if (t == '[' || t == ']') continue; // array markers: arguments stay flat
                    var a = new OscArgument { Tag = t };
                    switch (t)
                    {
                        case 'i': case 'r': case 'm': case 'c':
                            if (end - p < 4) { error = "truncated argument " + k; return false; }
                            a.Int = ReadI32(d, p); p += 4;
                            break;
                        case 'f':
                            if (end - p < 4) { error = "truncated argument " + k; return false; }
                            a.Float = ReadF32(d, p); p += 4;
                            break;
                        case 'h': case 't':
                            if (end - p < 8) { error = "truncated argument " + k; return false; }
                            a.Int = (long)ReadU64(d, p); p += 8;
                            break;
                        case 'd':
                            if (end - p < 8) { error = "truncated argument " + k; return false; }
                            a.Float = BitConverter.Int64BitsToDouble((long)ReadU64(d, p)); p += 8;
                            break;
                        case 's': case 'S':
                            if (!ReadString(d, ref p, end, out a.Text)) { error = "unterminated string argument " + k; return false; }
                            break;
                        case 'b':
                            {
                                if (end - p < 4) { error = "truncated blob size"; return false; }
                                int n = ReadI32(d, p); p += 4;
                                int padded = n + ((4 - (n & 3)) & 3);
                                if (n < 0 || padded > end - p) { error = "blob size " + n + " out of range"; return false; }
                                a.Blob = new byte[n];
                                Buffer.BlockCopy(d, p, a.Blob, 0, n);
                                p += padded;
                                break;
                            }
                        case 'T': a.Int = 1; break;
                        case 'F': case 'N': case 'I': break;
                        default:
                            error = "unknown type tag '" + t + "'"; return false;
                    }
                    args[k++] = a;
                }
            }
            error = null;
            m = new OscMessage(address, args, timeTag);
            return true;
        }

        static int CountArgs(string tags)
        {
            int n = 0;
            for (int i = 1; i < tags.Length; i++) if (tags[i] != '[' && tags[i] != ']') n++;
            return n;
        }

        /// <summary>NUL-terminated UTF-8, padded with NULs to a multiple of 4 bytes.</summary>
        static bool ReadString(byte[] d, ref int p, int end, out string s)
        {
            s = null;
            int z = p;
            while (z < end && d[z] != 0) z++;
            if (z >= end) return false;
            int next = z + 1;
            next += (4 - ((next - p) & 3)) & 3;
            if (next > end) return false;
            s = Utf8.GetString(d, p, z - p);
            p = next;
            return true;
        }

        static int ReadI32(byte[] d, int p)
        {
            return (d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3];
        }

        static ulong ReadU64(byte[] d, int p)
        {
            return ((ulong)(uint)ReadI32(d, p) << 32) | (uint)ReadI32(d, p + 4);
        }

        static float ReadF32(byte[] d, int p)
        {
            int bits = ReadI32(d, p);
            return BitConverter.ToSingle(BitConverter.GetBytes(bits), 0);
        }
    }

    /// <summary>
    /// Minimal OSC encoder (messages with i, f, s arguments; bundles), used by the tests and by
    /// anyone who wants to send VMC from Unity. Big-endian, strings NUL-padded to 4 bytes.
    /// </summary>
    public static class OscWriter
    {
        public static byte[] Message(string address, params object[] args)
        {
            var body = new List<byte>();
            var tags = new StringBuilder(",");
            foreach (var a in args)
            {
                if (a is int) { tags.Append('i'); PutI32(body, (int)a); }
                else if (a is float) { tags.Append('f'); PutI32(body, BitConverter.ToInt32(BitConverter.GetBytes((float)a), 0)); }
                else if (a is string) { tags.Append('s'); PutString(body, (string)a); }
                else throw new ArgumentException("unsupported OSC argument type " + (a == null ? "null" : a.GetType().Name));
            }
            var outp = new List<byte>();
            PutString(outp, address);
            PutString(outp, tags.ToString());
            outp.AddRange(body);
            return outp.ToArray();
        }

        public static byte[] Bundle(params byte[][] elements)
        {
            var outp = new List<byte>();
            PutString(outp, "#bundle");
            PutI32(outp, 0); PutI32(outp, 1); // time tag 1 = immediately
            foreach (var e in elements) { PutI32(outp, e.Length); outp.AddRange(e); }
            return outp.ToArray();
        }

        static void PutI32(List<byte> b, int v)
        {
            b.Add((byte)(v >> 24)); b.Add((byte)(v >> 16)); b.Add((byte)(v >> 8)); b.Add((byte)v);
        }

        static void PutString(List<byte> b, string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            b.AddRange(bytes);
            int n = 4 - (bytes.Length & 3);
            for (int i = 0; i < n; i++) b.Add(0);
        }
    }
}
