using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Vtuber.Bridge.Core
{
    /// <summary>
    /// A small strict JSON reader for the recording header (Unity's JsonUtility cannot read free-form
    /// objects). Objects become Dictionary&lt;string, object&gt;, arrays List&lt;object&gt;, numbers
    /// double, plus string, bool and null. Never throws on bad input: <see cref="TryParse"/> says why.
    /// </summary>
    public static class MiniJson
    {
        const int MaxDepth = 64;

        public static bool TryParse(string text, out object value, out string error)
        {
            value = null;
            error = null;
            if (text == null) { error = "null text"; return false; }
            var p = new Parser(text);
            try
            {
                p.SkipWs();
                value = p.Value(0);
                p.SkipWs();
                if (p.Pos != text.Length) throw new FormatException("trailing characters at " + p.Pos);
                return true;
            }
            catch (FormatException e)
            {
                value = null;
                error = e.Message;
                return false;
            }
        }

        sealed class Parser
        {
            readonly string s;
            public int Pos;

            public Parser(string s) { this.s = s; }

            public void SkipWs()
            {
                while (Pos < s.Length && (s[Pos] == ' ' || s[Pos] == '\t' || s[Pos] == '\n' || s[Pos] == '\r')) Pos++;
            }

            char Peek()
            {
                if (Pos >= s.Length) throw new FormatException("unexpected end of JSON");
                return s[Pos];
            }

            void Expect(string word)
            {
                if (string.CompareOrdinal(s, Pos, word, 0, word.Length) != 0) throw new FormatException("bad literal at " + Pos);
                Pos += word.Length;
            }

            public object Value(int depth)
            {
                if (depth > MaxDepth) throw new FormatException("JSON nested too deep");
                char c = Peek();
                switch (c)
                {
                    case '{': return Obj(depth);
                    case '[': return Arr(depth);
                    case '"': return Str();
                    case 't': Expect("true"); return true;
                    case 'f': Expect("false"); return false;
                    case 'n': Expect("null"); return null;
                    default:
                        if (c == '-' || (c >= '0' && c <= '9')) return Num();
                        throw new FormatException("unexpected '" + c + "' at " + Pos);
                }
            }

            Dictionary<string, object> Obj(int depth)
            {
                var d = new Dictionary<string, object>(StringComparer.Ordinal);
                Pos++;
                SkipWs();
                if (Peek() == '}') { Pos++; return d; }
                while (true)
                {
                    SkipWs();
                    if (Peek() != '"') throw new FormatException("expected a key at " + Pos);
                    string k = Str();
                    SkipWs();
                    if (Peek() != ':') throw new FormatException("expected ':' at " + Pos);
                    Pos++;
                    SkipWs();
                    d[k] = Value(depth + 1);
                    SkipWs();
                    char c = Peek();
                    Pos++;
                    if (c == '}') return d;
                    if (c != ',') throw new FormatException("expected ',' or '}' at " + (Pos - 1));
                }
            }

            List<object> Arr(int depth)
            {
                var l = new List<object>();
                Pos++;
                SkipWs();
                if (Peek() == ']') { Pos++; return l; }
                while (true)
                {
                    SkipWs();
                    l.Add(Value(depth + 1));
                    SkipWs();
                    char c = Peek();
                    Pos++;
                    if (c == ']') return l;
                    if (c != ',') throw new FormatException("expected ',' or ']' at " + (Pos - 1));
                }
            }

            string Str()
            {
                var sb = new StringBuilder();
                Pos++;
                while (true)
                {
                    char c = Peek();
                    Pos++;
                    if (c == '"') return sb.ToString();
                    if (c < 0x20) throw new FormatException("control character in string at " + (Pos - 1));
                    if (c != '\\') { sb.Append(c); continue; }
                    char e = Peek();
                    Pos++;
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            if (Pos + 4 > s.Length) throw new FormatException("truncated \\u escape");
                            int code;
                            if (!int.TryParse(s.Substring(Pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out code))
                                throw new FormatException("bad \\u escape at " + Pos);
                            sb.Append((char)code);
                            Pos += 4;
                            break;
                        default: throw new FormatException("bad escape at " + (Pos - 1));
                    }
                }
            }

            double Num()
            {
                int start = Pos;
                while (Pos < s.Length && "+-0123456789.eE".IndexOf(s[Pos]) >= 0) Pos++;
                double v;
                if (!double.TryParse(s.Substring(start, Pos - start), NumberStyles.Float, CultureInfo.InvariantCulture, out v))
                    throw new FormatException("bad number at " + start);
                return v;
            }
        }
    }
}
