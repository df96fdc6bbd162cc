// Unity-free core of the vtuber Unity bridge: no UnityEngine reference anywhere in Runtime/Core.
using System;
using System.Collections.Generic;

namespace Vtuber.Bridge.Core
{
    /// <summary>
    /// Unity's HumanBodyBones, same names and numbers (what VMC's /VMC/Ext/Bone/Pos sends as text).
    /// The Unity components cast it to UnityEngine.HumanBodyBones.
    /// </summary>
    public enum HumanBone
    {
        Hips = 0, LeftUpperLeg = 1, RightUpperLeg = 2, LeftLowerLeg = 3, RightLowerLeg = 4,
        LeftFoot = 5, RightFoot = 6, Spine = 7, Chest = 8, Neck = 9, Head = 10,
        LeftShoulder = 11, RightShoulder = 12, LeftUpperArm = 13, RightUpperArm = 14,
        LeftLowerArm = 15, RightLowerArm = 16, LeftHand = 17, RightHand = 18,
        LeftToes = 19, RightToes = 20, LeftEye = 21, RightEye = 22, Jaw = 23,
        LeftThumbProximal = 24, LeftThumbIntermediate = 25, LeftThumbDistal = 26,
        LeftIndexProximal = 27, LeftIndexIntermediate = 28, LeftIndexDistal = 29,
        LeftMiddleProximal = 30, LeftMiddleIntermediate = 31, LeftMiddleDistal = 32,
        LeftRingProximal = 33, LeftRingIntermediate = 34, LeftRingDistal = 35,
        LeftLittleProximal = 36, LeftLittleIntermediate = 37, LeftLittleDistal = 38,
        RightThumbProximal = 39, RightThumbIntermediate = 40, RightThumbDistal = 41,
        RightIndexProximal = 42, RightIndexIntermediate = 43, RightIndexDistal = 44,
        RightMiddleProximal = 45, RightMiddleIntermediate = 46, RightMiddleDistal = 47,
        RightRingProximal = 48, RightRingIntermediate = 49, RightRingDistal = 50,
        RightLittleProximal = 51, RightLittleIntermediate = 52, RightLittleDistal = 53,
        UpperChest = 54,
    }

    /// <summary>Bone names, the humanoid hierarchy and body-part groups.</summary>
    public static class HumanBones
    {
        /// <summary>Number of humanoid bones (HumanBodyBones.LastBone).</summary>
        public const int Count = 55;

        static readonly Dictionary<string, HumanBone> ByName = BuildNames();
        static readonly int[] ParentIndex = BuildParents();

        static Dictionary<string, HumanBone> BuildNames()
        {
            var d = new Dictionary<string, HumanBone>(StringComparer.Ordinal);
            foreach (HumanBone b in Enum.GetValues(typeof(HumanBone))) d[b.ToString()] = b;
            return d;
        }

        /// <summary>Bone by its exact (case-sensitive) HumanBodyBones name.</summary>
        public static bool TryParse(string name, out HumanBone bone)
        {
            if (name == null) { bone = HumanBone.Hips; return false; }
            return ByName.TryGetValue(name, out bone);
        }

        /// <summary>Humanoid parent of a bone (Unity's hierarchy with UpperChest), -1 for Hips.</summary>
        public static int Parent(HumanBone bone) { return ParentIndex[(int)bone]; }

        static int[] BuildParents()
        {
            var p = new int[Count];
            Action<HumanBone, HumanBone> set = (c, parent) => p[(int)c] = (int)parent;
            p[(int)HumanBone.Hips] = -1;
            set(HumanBone.Spine, HumanBone.Hips);
            set(HumanBone.Chest, HumanBone.Spine);
            set(HumanBone.UpperChest, HumanBone.Chest);
            set(HumanBone.Neck, HumanBone.UpperChest);
            set(HumanBone.Head, HumanBone.Neck);
            set(HumanBone.LeftEye, HumanBone.Head);
            set(HumanBone.RightEye, HumanBone.Head);
            set(HumanBone.Jaw, HumanBone.Head);
            foreach (var side in new[] { "Left", "Right" })
            {
                Func<string, HumanBone> b = n => ByName[side + n];
                set(b("Shoulder"), HumanBone.UpperChest);
                set(b("UpperArm"), b("Shoulder"));
                set(b("LowerArm"), b("UpperArm"));
                set(b("Hand"), b("LowerArm"));
                set(b("UpperLeg"), HumanBone.Hips);
                set(b("LowerLeg"), b("UpperLeg"));
                set(b("Foot"), b("LowerLeg"));
                set(b("Toes"), b("Foot"));
                foreach (var f in new[] { "Thumb", "Index", "Middle", "Ring", "Little" })
                {
                    set(b(f + "Proximal"), b("Hand"));
                    set(b(f + "Intermediate"), b(f + "Proximal"));
                    set(b(f + "Distal"), b(f + "Intermediate"));
                }
            }
            return p;
        }

        /// <summary>Body part of a bone, for the receiver's group masks.</summary>
        public static BoneGroup Group(HumanBone bone)
        {
            int i = (int)bone;
            if (i >= 24 && i <= 53) return BoneGroup.Fingers;
            switch (bone)
            {
                case HumanBone.Neck:
                case HumanBone.Head:
                case HumanBone.Jaw:
                    return BoneGroup.Head;
                case HumanBone.LeftEye:
                case HumanBone.RightEye:
                    return BoneGroup.Eyes;
                case HumanBone.Hips:
                case HumanBone.Spine:
                case HumanBone.Chest:
                case HumanBone.UpperChest:
                    return BoneGroup.Torso;
                case HumanBone.LeftShoulder:
                case HumanBone.RightShoulder:
                case HumanBone.LeftUpperArm:
                case HumanBone.RightUpperArm:
                case HumanBone.LeftLowerArm:
                case HumanBone.RightLowerArm:
                case HumanBone.LeftHand:
                case HumanBone.RightHand:
                    return BoneGroup.Arms;
                default:
                    return BoneGroup.Legs;
            }
        }
    }

    /// <summary>Body parts a receiver can switch off as a whole.</summary>
    [Flags]
    public enum BoneGroup
    {
        None = 0, Head = 1, Eyes = 2, Torso = 4, Arms = 8, Fingers = 16, Legs = 32,
        All = Head | Eyes | Torso | Arms | Fingers | Legs,
    }

    /// <summary>Which bones a receiver writes: group switches plus single-bone exclusions.</summary>
    public sealed class BoneMask
    {
        readonly bool[] enabled = new bool[HumanBones.Count];

        public BoneMask() : this(BoneGroup.All, null) { }

        public BoneMask(BoneGroup groups, IEnumerable<HumanBone> excluded)
        {
            for (int i = 0; i < HumanBones.Count; i++)
                enabled[i] = (groups & HumanBones.Group((HumanBone)i)) != 0;
            if (excluded != null)
                foreach (var b in excluded)
                    if ((int)b >= 0 && (int)b < HumanBones.Count) enabled[(int)b] = false;
        }

        public bool this[HumanBone bone] { get { return enabled[(int)bone]; } }
        public bool this[int bone] { get { return bone >= 0 && bone < HumanBones.Count && enabled[bone]; } }
    }
}
